//! The "did you mean" that misspelt keys and names get.

/// `; did you mean 'x'?` when one of `known` is a likely misspelling of `name`: the
/// nearest by edit distance (a transposition counts one), within 2 edits and less than
/// half the name; ties go to the first in `known`. Else, for a dotted name, the first
/// known name it is the start of up to an underscore (`events.create_callback` →
/// `events.create_callback_endpoint`): a name cut short is as likely as a misspelt one.
/// Empty otherwise.
pub(super) fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let len = name.chars().count();
    let mut best: Option<(usize, &str)> = None;
    let mut longer: Option<&str> = None;
    for k in known {
        if k == name {
            continue;
        }
        let d = distance(name, k);
        if d <= 2 && 2 * d < len && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
        let cut_short = k
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('_'));
        if longer.is_none() && name.contains('.') && cut_short {
            longer = Some(k);
        }
    }
    best.map(|(_, k)| k)
        .or(longer)
        .map_or_else(String::new, |k| format!("; did you mean '{k}'?"))
}

/// The optimal-string-alignment distance: insertions, deletions, substitutions and
/// transpositions of neighbours, each one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(distance("asign", "assign"), 1);
        assert_eq!(distance("text.to_uper", "text.to_upper"), 1);
        assert_eq!(distance("nxet", "next"), 1, "a transposition is one edit");
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions_are_near_and_not_for_short_names() {
        let keys = ["assign", "call", "next", "steps", "switch"];
        assert_eq!(did_you_mean("asign", keys), "; did you mean 'assign'?");
        assert_eq!(did_you_mean("swich", keys), "; did you mean 'switch'?");
        assert_eq!(did_you_mean("bogus", keys), "");
        assert_eq!(
            did_you_mean("x", keys),
            "",
            "one letter is no word to correct"
        );
        assert_eq!(
            did_you_mean("assign", keys),
            "",
            "an exact name is not a misspelling"
        );
        let library = ["events.await_callback", "events.create_callback_endpoint"];
        assert_eq!(
            did_you_mean("events.create_callback", library),
            "; did you mean 'events.create_callback_endpoint'?",
            "a dotted name cut short at an underscore"
        );
        assert_eq!(
            did_you_mean("events.crea", library),
            "",
            "not at an underscore"
        );
        assert_eq!(
            did_you_mean("a.b", ["a.b_x", "a.b_y"]),
            "; did you mean 'a.b_x'?",
            "the first"
        );
        assert_eq!(
            did_you_mean("create_callback", ["create_callback_endpoint"]),
            "",
            "not dotted"
        );
        assert_eq!(
            did_you_mean("events.await_callbak", library),
            "; did you mean 'events.await_callback'?",
            "a misspelling first"
        );
    }
}
