//! Workflow values: what expressions compute and what `events.await_callback` returns.

use std::collections::BTreeMap;
use std::rc::Rc;

/// A workflow value. Bytes stand apart from strings (CB-8): a body that is not text stays
/// bytes and cannot be JSON-encoded.
///
/// Maps are ordered by key, so every rendering of a value (traces, JSON output, snapshots)
/// is the same on every run. Lists and maps carry their size and depth, computed once as
/// they are built, so the limits of [`crate::limits`] are checked without walking a value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    List(Rc<List>),
    Map(Rc<Map>),
}

/// What a value costs: [`Value::bytes`] and [`Value::depth`] of a list or map, kept beside
/// its elements.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Measure {
    bytes: usize,
    depth: u32,
}

impl Measure {
    fn container() -> Measure {
        Measure {
            bytes: SCALAR_BYTES,
            depth: 1,
        }
    }

    fn add(&mut self, key_bytes: usize, v: &Value) {
        self.bytes = self.bytes.saturating_add(key_bytes + v.bytes());
        self.depth = self.depth.max(v.depth().saturating_add(1));
    }

    fn remove(&mut self, key_bytes: usize, v: &Value) {
        self.bytes = self.bytes.saturating_sub(key_bytes + v.bytes());
    }
}

/// What every value costs besides the text it holds: the unit of [`Value::bytes`].
pub const SCALAR_BYTES: usize = 8;

/// At most this many entries, [`Value::map`] builds a map by insertion.
const SMALL_MAP: usize = 8;

/// The elements of a list: a persistent vector (an RRB tree, `imbl`), so a copy shares its
/// structure with the original and `push`, `push_front` and `append` cost O(log n), not a
/// copy of the whole list (issue #11: `x: ${list.prepend(x, i)}` in a loop was quadratic).
pub type Items = imbl::GenericVector<Value, imbl::shared_ptr::RcK>;

/// Up to this many elements, [`List::append`] pushes them instead of joining trees: imbl's
/// leaf size.
const APPEND_BY_PUSH: usize = 64;

/// The elements of a list value. Read it as [`Items`] (it derefs to them); change it
/// through [`List::set`], [`List::push`], [`List::push_front`] and [`List::append`], which
/// keep its measure.
#[derive(Clone)]
pub struct List {
    items: Items,
    measure: Measure,
}

impl List {
    pub fn new(items: Vec<Value>) -> List {
        items.into_iter().collect()
    }

    pub fn push(&mut self, v: Value) {
        self.measure.add(0, &v);
        self.items.push_back(v);
    }

    pub fn push_front(&mut self, v: Value) {
        self.measure.add(0, &v);
        self.items.push_front(v);
    }

    /// Appends the elements of `other`, sharing its structure.
    pub fn append(&mut self, other: &List) {
        self.measure.bytes = self
            .measure
            .bytes
            .saturating_add(other.measure.bytes - SCALAR_BYTES);
        self.measure.depth = self.measure.depth.max(other.measure.depth);
        if other.items.len() <= APPEND_BY_PUSH {
            // Pushed one by one: an RRB join of a short list leaves a short leaf in the tree
            // every time, and a loop of `x + [i]` would degrade it.
            self.items.extend(other.items.iter().cloned());
        } else {
            self.items.append(other.items.clone());
        }
    }

    /// Replaces element `i` (which must exist), returning the old one. A removal can lower
    /// the depth; the recorded depth stays an upper bound, which is all a limit needs.
    pub fn set(&mut self, i: usize, v: Value) -> Value {
        self.measure.add(0, &v);
        let old = self.items.set(i, v);
        self.measure.remove(0, &old);
        old
    }

    /// [`Value::bytes`] of this list.
    pub fn bytes(&self) -> usize {
        self.measure.bytes
    }

    /// The elements, copied out.
    pub fn to_vec(&self) -> Vec<Value> {
        self.items.iter().cloned().collect()
    }

    pub fn into_vec(self) -> Vec<Value> {
        self.items.into_iter().collect()
    }
}

impl FromIterator<Value> for List {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> List {
        let mut list = List {
            items: Items::new(),
            measure: Measure::container(),
        };
        for v in iter {
            list.push(v);
        }
        list
    }
}

impl Default for List {
    fn default() -> List {
        List::new(Vec::new())
    }
}

/// Equal elements, whatever the recorded measure (a bound, after `set`).
impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        self.items == other.items
    }
}

impl std::ops::Deref for List {
    type Target = Items;
    fn deref(&self) -> &Items {
        &self.items
    }
}

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.items.iter()).finish()
    }
}

/// The entries of a map value, in key order. Read it as a `BTreeMap` (it derefs to one);
/// change it through [`Map::insert`] and [`Map::remove`], which keep its measure.
#[derive(Clone)]
pub struct Map {
    entries: BTreeMap<String, Value>,
    measure: Measure,
}

impl Map {
    pub fn new(entries: BTreeMap<String, Value>) -> Map {
        let mut measure = Measure::container();
        for (k, v) in &entries {
            measure.add(k.len(), v);
        }
        Map { entries, measure }
    }

    pub fn insert(&mut self, k: String, v: Value) -> Option<Value> {
        let key_bytes = k.len();
        self.measure.add(key_bytes, &v);
        let old = self.entries.insert(k, v);
        if let Some(old) = &old {
            // The key was counted when it was first inserted.
            self.measure.remove(key_bytes, old);
        }
        old
    }

    pub fn remove(&mut self, k: &str) -> Option<Value> {
        let old = self.entries.remove(k)?;
        self.measure.remove(k.len(), &old);
        Some(old)
    }

    pub fn into_btree(self) -> BTreeMap<String, Value> {
        self.entries
    }
}

impl Default for Map {
    fn default() -> Map {
        Map::new(BTreeMap::new())
    }
}

/// Equal entries, whatever the recorded measure.
impl PartialEq for Map {
    fn eq(&self, other: &Map) -> bool {
        self.entries == other.entries
    }
}

impl std::ops::Deref for Map {
    type Target = BTreeMap<String, Value>;
    fn deref(&self) -> &BTreeMap<String, Value> {
        &self.entries
    }
}

impl std::fmt::Debug for Map {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.entries.fmt(f)
    }
}

impl FromIterator<(String, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Map {
        Map::new(iter.into_iter().collect())
    }
}

impl Value {
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(List::new(items)))
    }

    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        let entries = entries.into_iter();
        let map = if entries.size_hint().1.is_some_and(|n| n <= SMALL_MAP) {
            // Inserted one by one: for the few entries of an error or a callback's map,
            // cheaper than the collect, sort and bulk build of `BTreeMap::from_iter`, with
            // the same result (a repeated key keeps its last value).
            let mut map = Map::default();
            for (k, v) in entries {
                map.insert(k.into(), v);
            }
            map
        } else {
            entries.map(|(k, v)| (k.into(), v)).collect()
        };
        Value::Map(Rc::new(map))
    }

    /// A map value of `entries`.
    pub fn from_btree(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Rc::new(Map::new(entries)))
    }

    /// A map value of `entries`, whose keys are distinct and ascending (checked in debug
    /// builds): built in bulk and measured from the array, with no search per key and no
    /// second pass over the tree. Every awaited callback returns three such maps (CB-7).
    pub(crate) fn sorted_map<const N: usize>(entries: [(String, Value); N]) -> Value {
        debug_assert!(entries.is_sorted_by(|a, b| a.0 < b.0), "keys not ascending");
        let mut measure = Measure::container();
        for (k, v) in &entries {
            measure.add(k.len(), v);
        }
        Value::Map(Rc::new(Map {
            entries: BTreeMap::from(entries),
            measure,
        }))
    }

    /// The value's size in bytes as the limits count it: [`SCALAR_BYTES`] for every value
    /// (element, entry, scalar), plus the length of every string, byte string and map key.
    /// Constant time: lists and maps keep theirs.
    pub fn bytes(&self) -> usize {
        match self {
            Value::Str(s) => SCALAR_BYTES + s.len(),
            Value::Bytes(b) => SCALAR_BYTES + b.len(),
            Value::List(l) => l.measure.bytes,
            Value::Map(m) => m.measure.bytes,
            _ => SCALAR_BYTES,
        }
    }

    /// How deep the value nests: 1 for a scalar or an empty list or map, one more than its
    /// deepest element otherwise. Constant time.
    pub fn depth(&self) -> u32 {
        match self {
            Value::List(l) => l.measure.depth,
            Value::Map(m) => m.measure.depth,
            _ => 1,
        }
    }

    /// The name of the type, as error messages say it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Double(_) => "double",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }

    /// The type's name with its article, as messages say it: "got an integer", "cannot
    /// convert a map". `null` and `bytes` take none.
    pub fn a_type(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Double(_) => "a double",
            Value::Str(_) => "a string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// The field `key` of a map, `None` for a missing key or a non-map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// A JSON document as a workflow value: integers that fit in int64 stay integers,
    /// every other number becomes a double.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::str(s.as_str()),
            serde_json::Value::Array(items) => {
                Value::list(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(fields) => {
                Value::map(fields.iter().map(|(k, v)| (k.clone(), Value::from_json(v))))
            }
        }
    }
}

/// A value as compact JSON, or its debug form when it has none (bytes): how messages and
/// reports quote a value.
pub fn show(v: &Value) -> String {
    v.to_json()
        .map_or_else(|_| format!("{v:?}"), |j| j.to_string())
}

/// A type name of [`Value::type_name`] with its article, as [`Value::a_type`] says it.
pub fn with_article(type_name: &str) -> String {
    match type_name {
        "null" | "bytes" => type_name.to_owned(),
        n if n.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {n}"),
        n => format!("a {n}"),
    }
}

impl Value {
    /// The value as JSON. Bytes have no JSON form (CB-8): `Err` names where they were met.
    pub fn to_json(&self) -> Result<serde_json::Value, &'static str> {
        Ok(match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Double(d) => serde_json::Number::from_f64(*d)
                .map(serde_json::Value::Number)
                .ok_or("a double that is not finite")?,
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::Bytes(_) => return Err("bytes"),
            Value::List(items) => serde_json::Value::Array(
                items.iter().map(Value::to_json).collect::<Result<_, _>>()?,
            ),
            Value::Map(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| Ok((k.clone(), v.to_json()?)))
                    .collect::<Result<_, &'static str>>()?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_are_kept_as_values_are_built() {
        let mut l = List::default();
        assert_eq!(
            (Value::List(Rc::new(l.clone())).bytes(), l.measure.depth),
            (8, 1)
        );
        l.push(Value::str("abc"));
        assert_eq!(
            Value::List(Rc::new(l.clone())),
            Value::list(vec![Value::str("abc")])
        );
        assert_eq!(l.bytes(), Value::list(vec![Value::str("abc")]).bytes());
        let nested = Value::list(vec![Value::list(vec![Value::Null])]);
        assert_eq!((nested.bytes(), nested.depth()), (24, 3));
        let old = l.set(0, Value::str("x"));
        assert_eq!(old, Value::str("abc"));
        assert_eq!(l.bytes(), 8 + 8 + 1);
        let mut m = Map::default();
        m.insert("key".into(), Value::Int(1));
        assert_eq!(Value::Map(Rc::new(m.clone())).bytes(), 8 + 3 + 8);
        m.insert("key".into(), Value::str("ab"));
        assert_eq!(Value::Map(Rc::new(m.clone())).bytes(), 8 + 3 + 8 + 2);
        assert_eq!(m.remove("key"), Some(Value::str("ab")));
        assert_eq!(m.remove("key"), None);
        assert_eq!(Value::Map(Rc::new(m.clone())).bytes(), 8);
        assert_eq!(
            Value::Map(Rc::new(m)),
            Value::map(Vec::<(String, Value)>::new())
        );
        assert_eq!(Value::Bytes(b"ab"[..].into()).bytes(), 10);
        assert_eq!((Value::Int(1).bytes(), Value::Int(1).depth()), (8, 1));
    }

    /// CB-7: a map built in bulk from sorted fields measures and equals the same map built
    /// by insertion.
    #[test]
    fn a_sorted_map_is_measured_as_built() {
        let inner = Value::map([("k", Value::list(vec![Value::str("abc")]))]);
        let entries = [
            ("a".to_owned(), Value::Null),
            ("body".to_owned(), Value::Bytes(b"xyz"[..].into())),
            ("headers".to_owned(), inner),
            ("url".to_owned(), Value::str("/v1")),
        ];
        let bulk = Value::sorted_map(entries.clone());
        let inserted = Value::map(entries);
        assert_eq!(bulk, inserted);
        assert_eq!(
            (bulk.bytes(), bulk.depth()),
            (inserted.bytes(), inserted.depth())
        );
        assert_eq!((bulk.bytes(), bulk.depth()), (8 + 9 + 15 + 35 + 14, 4));
        let empty = Value::sorted_map([]);
        assert_eq!((empty.bytes(), empty.depth()), (8, 1));
    }

    /// A list grown by push_front, push and append measures what the same list built at
    /// once measures, and equals it.
    #[test]
    fn growing_a_list_keeps_its_measure() {
        let deep = Value::list(vec![Value::list(vec![Value::str("ab")])]);
        let mut grown = List::default();
        for i in 0..100 {
            grown.push_front(Value::Int(i));
        }
        grown.push(deep.clone());
        let short = List::new(vec![Value::str("xyz"), Value::Null]);
        grown.append(&short);
        let long = List::new((0..200).map(Value::Int).collect());
        grown.append(&long);
        let mut all: Vec<Value> = (0..100).rev().map(Value::Int).collect();
        all.push(deep);
        all.extend([Value::str("xyz"), Value::Null]);
        all.extend((0..200).map(Value::Int));
        let built = List::new(all.clone());
        assert_eq!(grown, built);
        assert_eq!(grown.bytes(), built.bytes());
        assert_eq!(grown.measure.depth, built.measure.depth);
        assert_eq!(grown.measure.depth, 4);
        assert_eq!(grown.to_vec(), all);
        assert_eq!(grown.clone().into_vec(), all);
        // The appended lists are shared, not changed.
        assert_eq!(short.len(), 2);
        assert_eq!(long.len(), 200);
    }

    #[test]
    fn type_names_with_their_articles() {
        let all = [
            Value::Null,
            Value::Bool(true),
            Value::Int(1),
            Value::Double(1.0),
            Value::str("s"),
            Value::Bytes(b"b"[..].into()),
            Value::list(vec![]),
            Value::map(Vec::<(String, Value)>::new()),
        ];
        let said: Vec<&str> = all.iter().map(Value::a_type).collect();
        assert_eq!(
            said,
            [
                "null",
                "a boolean",
                "an integer",
                "a double",
                "a string",
                "bytes",
                "a list",
                "a map"
            ]
        );
        for v in &all {
            assert_eq!(with_article(v.type_name()), v.a_type());
        }
    }

    #[test]
    fn json_numbers_keep_int_and_double_apart() {
        let json: serde_json::Value =
            serde_json::from_str(r#"{"i": 3, "d": 3.0, "big": 18446744073709551615, "s": "x"}"#)
                .unwrap();
        let v = Value::from_json(&json);
        assert_eq!(v.get("i"), Some(&Value::Int(3)));
        assert_eq!(v.get("d"), Some(&Value::Double(3.0)));
        assert_eq!(v.get("big"), Some(&Value::Double(18446744073709551615.0)));
        assert_eq!(v.get("s"), Some(&Value::str("x")));
        assert_eq!(v.get("missing"), None);
        assert_eq!(Value::Null.get("i"), None);
        assert_eq!(Value::from_json(&v.to_json().unwrap()), v);
        assert_eq!(Value::Bytes(b"x"[..].into()).to_json(), Err("bytes"));
    }
}
