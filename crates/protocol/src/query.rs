//! Reading settings from a page's query string (`?server=...&x=1`).
//!
//! The client takes its run-time settings from the address bar, so people
//! embedding Roster and the end-to-end tests can change them without a
//! rebuild.

/// The decoded value of the first `name=value` pair in `search` (with or
/// without its leading `?`). `+` means a space and `%XX` escapes are decoded;
/// an escape that is not valid UTF-8 is kept as it was written.
pub fn query_param(search: &str, name: &str) -> Option<String> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| percent_decode(key) == name)
        .map(|(_, value)| percent_decode(value))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes
                .get(i + 1..i + 3)
                .and_then(|pair| hex_pair(pair[0], pair[1]))
            {
                Some(byte) => {
                    out.push(byte);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

fn hex_pair(high: u8, low: u8) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    Some((digit(high)? * 16 + digit(low)?) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_value_is_found_with_or_without_the_question_mark() {
        assert_eq!(query_param("?a=1&server=x", "server").as_deref(), Some("x"));
        assert_eq!(query_param("server=x", "server").as_deref(), Some("x"));
    }

    #[test]
    fn escapes_and_plus_signs_are_decoded() {
        assert_eq!(
            query_param("?server=ws%3A%2F%2Fh%3A1%2Fp", "server").as_deref(),
            Some("ws://h:1/p")
        );
        assert_eq!(
            query_param("?name=Ada+Lovelace", "name").as_deref(),
            Some("Ada Lovelace")
        );
    }

    #[test]
    fn an_unescaped_url_value_is_taken_as_written() {
        assert_eq!(
            query_param("?server=ws://127.0.0.1:9/api/v1/users/ws", "server").as_deref(),
            Some("ws://127.0.0.1:9/api/v1/users/ws")
        );
    }

    #[test]
    fn the_first_of_repeated_names_wins() {
        assert_eq!(query_param("?x=1&x=2", "x").as_deref(), Some("1"));
    }

    #[test]
    fn a_missing_name_is_none_and_a_bare_name_is_empty() {
        assert_eq!(query_param("?a=1", "server"), None);
        assert_eq!(query_param("", "server"), None);
        assert_eq!(query_param("?server", "server").as_deref(), Some(""));
    }

    #[test]
    fn broken_escapes_are_kept_as_written() {
        assert_eq!(query_param("?x=100%", "x").as_deref(), Some("100%"));
        assert_eq!(query_param("?x=%zz", "x").as_deref(), Some("%zz"));
        assert_eq!(query_param("?x=%ff", "x").as_deref(), Some("%ff"));
    }
}
