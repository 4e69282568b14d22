//! Structural mutations of JSON documents for the property tests: drop a key, retype a value
//! (string, number, boolean, null, `[]`, `{}`), nest a value one level deeper, swap two
//! values. A mutation picks its place with a [`prop::sample::Index`] over every path of the
//! document as it is when the mutation applies, so a list of them composes.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// The JSON type a value is turned into.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Text: a number's digits, `Y`/`N`, `""`, or JSON text of a list or object.
    Text,
    /// A number: one parsed from text, or a boundary value picked by `n`.
    Number(u8),
    /// A boolean.
    Bool,
    /// `null`.
    Null,
    /// `[]`.
    EmptyList,
    /// `{}`.
    EmptyObject,
}

/// One change to a document.
#[derive(Debug, Clone)]
pub enum Op {
    /// Removes the value (its key, or its list item).
    Drop,
    /// Replaces the value by one of another JSON type.
    Retype(Kind),
    /// Wraps the value in a list (`true`) or in an object under its own key (`false`).
    Nest(bool),
    /// Swaps the value with the one at another path (unless one contains the other).
    Swap(prop::sample::Index),
}

/// An [`Op`] and where it applies.
#[derive(Debug, Clone)]
pub struct Mutation {
    /// Which path (of all paths, in document order).
    pub at: prop::sample::Index,
    /// What to do there.
    pub op: Op,
}

/// One mutation.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    let kind = prop_oneof![
        Just(Kind::Text),
        any::<u8>().prop_map(Kind::Number),
        Just(Kind::Bool),
        Just(Kind::Null),
        Just(Kind::EmptyList),
        Just(Kind::EmptyObject),
    ];
    let op = prop_oneof![
        1 => Just(Op::Drop),
        3 => kind.prop_map(Op::Retype),
        1 => any::<bool>().prop_map(Op::Nest),
        1 => any::<prop::sample::Index>().prop_map(Op::Swap),
    ];
    (any::<prop::sample::Index>(), op).prop_map(|(at, op)| Mutation { at, op })
}

/// A step of a path: an object key or a list position.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Item(usize),
}

/// Every path below the root, in document order.
fn paths(v: &Value) -> Vec<Vec<Step>> {
    let mut out = Vec::new();
    let mut stack = vec![(Vec::new(), v)];
    while let Some((path, v)) = stack.pop() {
        let children: Vec<(Step, &Value)> = match v {
            Value::Object(m) => m.iter().map(|(k, x)| (Step::Key(k.clone()), x)).collect(),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, x)| (Step::Item(i), x))
                .collect(),
            _ => Vec::new(),
        };
        for (step, child) in children.into_iter().rev() {
            let mut p = path.clone();
            p.push(step);
            out.push(p.clone());
            stack.push((p, child));
        }
    }
    out
}

fn get_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, step| match (v, step) {
        (Value::Object(m), Step::Key(k)) => m.get_mut(k),
        (Value::Array(a), Step::Item(i)) => a.get_mut(*i),
        _ => None,
    })
}

/// A value of `kind` made from `v`.
fn retype(v: &Value, kind: Kind) -> Value {
    match kind {
        Kind::Text => Value::String(match v {
            Value::String(_) => String::new(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => if *b { "Y" } else { "N" }.to_string(),
            Value::Null => String::new(),
            other => other.to_string(),
        }),
        Kind::Number(n) => {
            let parsed = match v {
                Value::String(s) => s.trim().parse::<i64>().ok().map(Value::from),
                Value::Bool(b) => Some(Value::from(i64::from(*b))),
                _ => None,
            };
            parsed.unwrap_or_else(|| match n % 6 {
                0 => Value::from(0),
                1 => Value::from(-1),
                2 => Value::from(u64::MAX),
                3 => Value::from(i64::MIN),
                4 => Value::from(1.5),
                _ => Value::from(1e300),
            })
        }
        Kind::Bool => Value::Bool(match v {
            Value::String(s) => !s.is_empty(),
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::Bool(b) => !b,
            _ => true,
        }),
        Kind::Null => Value::Null,
        Kind::EmptyList => Value::Array(Vec::new()),
        Kind::EmptyObject => Value::Object(Map::new()),
    }
}

/// Applies one mutation; a mutation with nowhere to apply leaves the document as it is.
pub fn apply(doc: &mut Value, m: &Mutation) {
    let all = paths(doc);
    if all.is_empty() {
        return;
    }
    let path = all[m.at.index(all.len())].clone();
    match &m.op {
        Op::Drop => {
            let Some((last, parent)) = path.split_last() else {
                return;
            };
            match (get_mut(doc, parent), last) {
                (Some(Value::Object(o)), Step::Key(k)) => {
                    o.shift_remove(k);
                }
                (Some(Value::Array(a)), Step::Item(i)) if *i < a.len() => {
                    a.remove(*i);
                }
                _ => {}
            }
        }
        Op::Retype(kind) => {
            if let Some(v) = get_mut(doc, &path) {
                *v = retype(v, *kind);
            }
        }
        Op::Nest(as_list) => {
            let key = match path.last() {
                Some(Step::Key(k)) => k.clone(),
                _ => "0".to_string(),
            };
            if let Some(v) = get_mut(doc, &path) {
                let inner = v.take();
                *v = if *as_list {
                    Value::Array(vec![inner])
                } else {
                    Value::Object(Map::from_iter([(key, inner)]))
                };
            }
        }
        Op::Swap(other) => {
            let other = all[other.index(all.len())].clone();
            if path.starts_with(&other) || other.starts_with(&path) {
                return;
            }
            let Some(a) = get_mut(doc, &path).map(Value::take) else {
                return;
            };
            let b = match get_mut(doc, &other) {
                Some(slot) => std::mem::replace(slot, a),
                None => return,
            };
            if let Some(slot) = get_mut(doc, &path) {
                *slot = b;
            }
        }
    }
}
