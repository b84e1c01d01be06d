//! The arithmetic of a windowed list whose rows all have the same height
//! ([`ROW_HEIGHT_PX`]): which rows a view shows, where the view must stand
//! to show the end, and where a user's row is. Pure, so `cargo test` checks
//! it natively; the view (`view.rs`) only reads and writes the DOM.

use std::ops::Range;

use super::rows::ROW_HEIGHT_PX;

/// Rows rendered beyond each edge of the view, so a quick scroll does not
/// show blank space before the next frame.
pub const OVERSCAN_ROWS: usize = 8;

/// The rows to render for a view of `height` pixels scrolled to `top`, in
/// a list of `count`: those in view and [`OVERSCAN_ROWS`] either side.
pub fn rows_in_view(top: f64, height: f64, count: usize) -> Range<usize> {
    let top = top.max(0.0);
    let first = (row_at(top)).saturating_sub(OVERSCAN_ROWS);
    let end = (((top + height.max(0.0)) / ROW_HEIGHT_PX).ceil() as usize)
        .saturating_add(OVERSCAN_ROWS)
        .min(count);
    first.min(end)..end
}

/// The row at `top` pixels from the list's start.
pub fn row_at(top: f64) -> usize {
    (top / ROW_HEIGHT_PX) as usize
}

/// How far into its row `top` falls, in pixels.
pub fn offset_in_row(top: f64) -> f64 {
    top - (top / ROW_HEIGHT_PX).floor() * ROW_HEIGHT_PX
}

/// Where the view starts to show row `position`, `offset` pixels into it.
pub fn top_of(position: usize, offset: f64) -> f64 {
    position as f64 * ROW_HEIGHT_PX + offset
}

/// The height of `count` rows.
pub fn height_of(count: usize) -> f64 {
    count as f64 * ROW_HEIGHT_PX
}

/// The lowest `scrollTop` a view `view_height` tall can have over `count`
/// rows: the browser lowers a larger one by itself when the list shrinks,
/// and says so only in its next scroll event.
pub fn clamp_top(top: f64, count: usize, view_height: f64) -> f64 {
    top.min((height_of(count) - view_height).max(0.0))
}

/// Where the view starts when it shows the end of `count` rows in a
/// scroller at most `max_height` tall.
pub fn end_top(count: usize, max_height: f64) -> f64 {
    let list = height_of(count);
    (list - list.min(max_height)).max(0.0)
}

/// Whether a view at `top` shows the end of `count` rows (within half a
/// row; past the end counts, since the browser lowers `scrollTop` itself
/// when the list shrinks).
pub fn shows_end(top: f64, count: usize, max_height: f64) -> bool {
    top + ROW_HEIGHT_PX / 2.0 >= end_top(count, max_height)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROW: f64 = ROW_HEIGHT_PX;

    #[test]
    fn a_view_renders_its_rows_and_the_overscan_either_side() {
        // Ten rows in view from row 100.
        assert_eq!(rows_in_view(100.0 * ROW, 10.0 * ROW, 100_000), 92..118);
        // At the top nothing lies above.
        assert_eq!(rows_in_view(0.0, 10.0 * ROW, 100_000), 0..18);
        // At the end nothing lies below.
        assert_eq!(rows_in_view(95.0 * ROW, 10.0 * ROW, 100), 87..100);
    }

    #[test]
    fn a_short_list_an_empty_one_and_odd_inputs_stay_in_bounds() {
        assert_eq!(rows_in_view(0.0, 10.0 * ROW, 3), 0..3);
        assert_eq!(rows_in_view(0.0, 10.0 * ROW, 0), 0..0);
        assert_eq!(rows_in_view(-50.0, -1.0, 10), 0..8);
        // A view scrolled far past a list that shrank renders nothing.
        let rows = rows_in_view(1_000.0 * ROW, 10.0 * ROW, 20);
        assert!(rows.is_empty() && rows.end <= 20, "{rows:?}");
    }

    #[test]
    fn a_position_and_its_offset_give_back_the_top() {
        for top in [0.0, 1.0, ROW - 1.0, ROW, 12.5 * ROW, 99_999.0 * ROW + 3.0] {
            let back = top_of(row_at(top), offset_in_row(top));
            assert!((back - top).abs() < 1e-6, "{top} -> {back}");
            assert!((0.0..ROW).contains(&offset_in_row(top)));
        }
    }

    #[test]
    fn the_top_is_lowered_once_the_list_is_shorter_than_it() {
        assert_eq!(clamp_top(50.0 * ROW, 100, 10.0 * ROW), 50.0 * ROW);
        assert_eq!(clamp_top(95.0 * ROW, 100, 10.0 * ROW), 90.0 * ROW);
        assert_eq!(clamp_top(5.0 * ROW, 3, 10.0 * ROW), 0.0);
    }

    #[test]
    fn the_end_is_in_view_within_half_a_row() {
        let max = 10.0 * ROW;
        assert_eq!(end_top(100, max), 90.0 * ROW);
        // A list shorter than the scroller is all in view from the top.
        assert_eq!(end_top(4, max), 0.0);
        assert!(shows_end(90.0 * ROW, 100, max));
        assert!(shows_end(90.0 * ROW - ROW / 2.0, 100, max));
        assert!(!shows_end(90.0 * ROW - ROW, 100, max));
        assert!(shows_end(200.0 * ROW, 100, max), "past the end counts");
        assert!(shows_end(0.0, 4, max));
        // A scroller with no height limit shows every row.
        assert!(shows_end(0.0, 100_000, f64::INFINITY));
    }
}
