//! Paging of list methods: 50 a page from `start`, with `next` and `total`.

use serde_json::{Map, Value};

use crate::params::{get_ci, php_intval};

/// Page size of list methods.
pub const PAGE_SIZE: usize = 50;
/// One page of `items` from `start` (50 a page).
pub(crate) fn page(
    items: &[Value],
    params: &Map<String, Value>,
) -> (Value, Option<u64>, Option<u64>) {
    let start = get_ci(params, "start").map(php_intval).unwrap_or(0);
    let no_count = start < 0;
    let from = usize::try_from(start.max(0))
        .unwrap_or(usize::MAX)
        .min(items.len());
    let to = from.saturating_add(PAGE_SIZE).min(items.len());
    let next = (to < items.len()).then_some(to as u64);
    let total = (!no_count).then_some(items.len() as u64);
    (Value::Array(items[from..to].to_vec()), next, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paging() {
        let items: Vec<Value> = (0..120).map(Value::from).collect();
        let p = |s: &str| {
            let m: Map<String, Value> = serde_json::from_value(json!({"start": s})).unwrap();
            page(&items, &m)
        };
        let (r, n, t) = p("0");
        assert_eq!(
            (r.as_array().map(Vec::len), n, t),
            (Some(50), Some(50), Some(120))
        );
        let (r, n, _) = p("100");
        assert_eq!((r[0].clone(), n), (json!(100), None));
        let (_, _, t) = p("-1");
        assert_eq!(t, None);
    }
}
