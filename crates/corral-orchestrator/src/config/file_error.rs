//! A `corral.toml` the parser refused, located as an editor would show it:
//! `corral.toml:12: limits.memory: expected a size like "2g"`.

/// The line (from 1) and the dotted key (`limits.memory`) at `offset` in
/// `text`: the key written on that line, under the last `[table]` above it.
pub fn locate(text: &str, offset: usize) -> (usize, Option<String>) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let this_line = text.lines().nth(line - 1).unwrap_or_default();
    let key = this_line
        .split_once('=')
        .map(|(key, _)| key.trim().trim_matches('"').to_owned())
        .filter(|key| !key.is_empty() && !key.starts_with('['));
    let table = text
        .lines()
        .take(line)
        .filter_map(|line| {
            let line = line.trim();
            line.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .map(|name| name.trim_matches(['[', ']']).trim().to_owned())
        })
        .last();
    let key = match (table, key) {
        (Some(table), Some(key)) => Some(format!("{table}.{key}")),
        (None, key) => key,
        (Some(table), None) => Some(table),
    };
    (line, key)
}

/// The parser's complaint with its line and key, when it points at one.
pub fn describe(text: &str, error: &toml::de::Error) -> (Option<usize>, String) {
    let message = error.message().trim().to_owned();
    match error.span() {
        Some(span) => {
            let (line, key) = locate(text, span.start);
            let message = match key {
                Some(key) => format!("{key}: {message}"),
                None => message,
            };
            (Some(line), message)
        }
        None => (None, message),
    }
}

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn an_offset_is_located_as_a_line_and_a_dotted_key() {
        let text = "max_concurrent_jobs = 2\n\n[limits]\ncpu_shares = 512\nmemory = true\n";
        let offset = text.find("true").expect("value");
        assert_eq!(locate(text, offset), (5, Some("limits.memory".into())));
        assert_eq!(locate(text, 3), (1, Some("max_concurrent_jobs".into())));
    }
}
