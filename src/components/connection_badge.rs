use leptos::prelude::*;
use roster_protocol::{ConnectionState, ConnectionStatus};

/// Where the connection stands: the state, the reconnection attempt and
/// when the next try starts, the protocol and round-trip time while
/// connected, and the last problem seen. `data-state` carries the
/// machine-readable state, `data-protocol` the protocol in use and the
/// problem's `data-problem` its kind ([`roster_protocol::Problem::kind`]).
#[component]
pub fn ConnectionBadge(#[prop(into)] status: Signal<ConnectionStatus>) -> impl IntoView {
    let state = move || status.with(|s| s.state);
    let attempt = move || {
        status.with(|s| match s.state {
            ConnectionState::Reconnecting | ConnectionState::Offline if s.attempt > 0 => {
                Some(s.attempt)
            }
            _ => None,
        })
    };
    let next_retry_at = move || status.with(|s| s.next_retry_at);
    let live_detail = move || {
        status.with(|s| {
            let protocol = s
                .protocol
                .filter(|_| s.state == ConnectionState::Connected)?;
            Some(match s.rtt_ms {
                Some(rtt) => format!("{} · {rtt} ms", protocol.as_str()),
                None => protocol.as_str().to_owned(),
            })
        })
    };
    let protocol = move || status.with(|s| s.protocol.map(|p| p.as_str()));
    let last_error = move || status.with(|s| s.last_error.as_ref().map(ToString::to_string));
    let problem_kind = move || status.with(|s| s.last_error.as_ref().map(|p| p.kind()));
    view! {
        <div
            class="connection"
            data-testid="connection-status"
            data-state=move || state().as_str()
            data-protocol=protocol
        >
            <span class="connection-dot" aria-hidden="true"></span>
            // Only the state is announced: attempts, next tries and round
            // trips change often and are there to be read, not spoken.
            <span class="connection-label" role="status">{move || state().label()}</span>
            {move || attempt().map(|n| view! {
                <span class="connection-attempt" data-testid="attempt">"attempt "{n}</span>
            })}
            {move || next_retry_at().map(|at| view! {
                <span class="connection-retry" data-testid="next-retry" data-at=at.to_string()>
                    "next try at "{clock_time(at)}
                </span>
            })}
            {move || live_detail().map(|detail| view! {
                <span class="connection-detail" data-testid="connection-detail">{detail}</span>
            })}
            <Show when=move || last_error().is_some()>
                <span class="connection-error" data-testid="last-error" data-problem=problem_kind>
                    {last_error}
                </span>
            </Show>
        </div>
    }
}

/// `HH:MM:SS` in the viewer's time zone.
fn clock_time(epoch_ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(epoch_ms as f64));
    format!(
        "{:02}:{:02}:{:02}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}
