//! The refused body, validated from its bytes. When the fast path finds a JSON body
//! wrong, the usual next step parses it into a `serde_json::Value` and walks that. Most
//! of that value is only read once, and a refused body is never built from it; so this
//! walk reads the bytes instead, one model at a time. A model's properties are checked
//! as they come; anything else (a list, a union, a scalar) becomes a small JSON value
//! and goes through the very walker of [`Compiled::validate`], so that there is one
//! source for the errors.
//!
//! It answers only "these are the errors, all of them, in pydantic's order". It gives
//! up — and the value walk runs as before — whenever it could not be sure of that: a
//! required property missing (its error shows the whole object as sent), a key given
//! twice, more errors than are reported, a body that is not JSON, or a body with no
//! error at all (its lax coercions have to be applied to a value).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::compiled::{Additional, Compiled, Kind, Mode, NodeId, Type, Validator, MAX_DEPTH};
use super::{messages, LocItem, ValidationError};

impl Compiled {
    /// The errors of a JSON body, read from its bytes; `None` when this walk cannot be
    /// sure of them (see the module's documentation) and the value walk must run.
    pub(crate) fn stream_errors(
        &'static self,
        bytes: &[u8],
        loc_prefix: &[LocItem],
        room: usize,
    ) -> Option<Vec<ValidationError>> {
        let mut v = Validator::new(self, Mode::Json, room);
        let mut loc = loc_prefix.to_vec();
        let unsure = Cell::new(false);
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let walked = Walk {
            v: &mut v,
            id: self.root,
            loc: &mut loc,
            depth: 0,
            unsure: &unsure,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end());
        if walked.is_err() || unsure.get() || v.errors.is_empty() || v.full() {
            return None;
        }
        Some(v.errors)
    }

    /// The object schema at `id`, when a model's properties can be walked as they
    /// come: refs followed, no `allOf`, no pattern or integer keys.
    fn streamable(&'static self, id: NodeId) -> Option<Object<'static>> {
        let node = self.resolve(id);
        if !node.all_of.is_empty() {
            return None;
        }
        match &node.kind {
            Kind::Typed {
                ty:
                    Type::Object {
                        properties,
                        model: true,
                        patterns,
                        int_keys: None,
                        additional,
                    },
                ..
            } if patterns.is_empty() && properties.len() <= 64 => Some(Object {
                properties,
                additional,
            }),
            _ => None,
        }
    }
}

/// A model's properties and what it does with other keys.
#[derive(Clone, Copy)]
struct Object<'c> {
    properties: &'c [(String, NodeId, bool)],
    additional: &'c Additional,
}

/// One value of the body, checked against the node `id`.
struct Walk<'w> {
    v: &'w mut Validator,
    id: NodeId,
    loc: &'w mut Vec<LocItem>,
    depth: usize,
    unsure: &'w Cell<bool>,
}

impl Walk<'_> {
    /// Check a value that was read whole, with the value walker.
    fn value(self, value: Value) {
        self.v.check(self.id, value, self.loc, self.depth);
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // The value walk stops checking past `MAX_DEPTH`, counting `$ref`s and unions
        // as levels too; this walk counts only models, so it gives up well before.
        if self.depth > MAX_DEPTH / 4 || self.v.full() {
            self.unsure.set(true);
            return IgnoredAny::deserialize(d).map(|_| ());
        }
        match self.v.compiled.streamable(self.id) {
            Some(object) => d.deserialize_any(ModelVisitor { walk: self, object }),
            None => {
                let value = Value::deserialize(d)?;
                self.value(value);
                Ok(())
            }
        }
    }
}

/// A value where the schema says a model: an object is walked key by key, anything
/// else is read whole and checked as the value walker checks it.
struct ModelVisitor<'w> {
    walk: Walk<'w>,
    object: Object<'static>,
}

impl<'de> Visitor<'de> for ModelVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<(), E> {
        self.walk.value(Value::Bool(b));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<(), E> {
        self.walk.value(Value::from(n));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<(), E> {
        self.walk.value(Value::from(n));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<(), E> {
        self.walk.value(Value::from(n));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.walk.value(Value::String(s.to_owned()));
        Ok(())
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<(), E> {
        self.walk.value(Value::String(s));
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.walk.value(Value::Null);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        self.walk.value(Value::Array(items));
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Walk {
            v,
            loc,
            depth,
            unsure,
            ..
        } = self.walk;
        let Object {
            properties,
            additional,
        } = self.object;
        let base = v.errors.len();
        // Each key's errors, as (order, first, end): a property's order is its place in
        // the schema, another key's comes after every property, in the order sent.
        let mut spans: Vec<(usize, usize, usize)> = Vec::new();
        let mut seen = 0u64;
        let mut extras = 0;
        while let Some(key) = map.next_key_seed(KeySeed { properties })? {
            let start = v.errors.len();
            let order = match key {
                Key::Property(i) => {
                    if seen & (1 << i) != 0 {
                        // A key given twice: the value walk keeps the last.
                        unsure.set(true);
                    }
                    seen |= 1 << i;
                    let (name, sub, _) = &properties[i];
                    loc.push(LocItem::Key(Cow::Borrowed(name.as_str())));
                    map.next_value_seed(Walk {
                        v: &mut *v,
                        id: *sub,
                        loc: &mut *loc,
                        depth: depth + 1,
                        unsure,
                    })?;
                    loc.pop();
                    i
                }
                Key::Other(k) => {
                    loc.push(LocItem::Key(Cow::Owned(k)));
                    match additional {
                        Additional::Forbidden => {
                            let value: Value = map.next_value()?;
                            v.fail(messages::extra_forbidden(value), loc);
                        }
                        Additional::Schema(extra) => map.next_value_seed(Walk {
                            v: &mut *v,
                            id: *extra,
                            loc: &mut *loc,
                            depth: depth + 1,
                            unsure,
                        })?,
                        Additional::Allowed => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                    loc.pop();
                    extras += 1;
                    properties.len() + extras
                }
            };
            if v.errors.len() > start {
                spans.push((order, start, v.errors.len()));
            }
        }
        let missing = properties
            .iter()
            .enumerate()
            .any(|(i, (_, _, required))| *required && seen & (1 << i) == 0);
        if missing {
            // Its error shows the object as sent: the value walk has it.
            unsure.set(true);
            return Ok(());
        }
        if !spans.is_sorted_by_key(|(order, _, _)| *order) {
            // pydantic reports a model's fields in the schema's order.
            let mut tail: Vec<Option<ValidationError>> = v.errors.drain(base..).map(Some).collect();
            spans.sort_by_key(|(order, _, _)| *order);
            for (_, start, end) in spans {
                v.errors
                    .extend((start..end).filter_map(|i| tail[i - base].take()));
            }
        }
        Ok(())
    }
}

/// A key of a model: one of its properties, or another.
enum Key {
    Property(usize),
    Other(String),
}

struct KeySeed<'c> {
    properties: &'c [(String, NodeId, bool)],
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(
            match self.properties.iter().position(|(name, _, _)| name == key) {
                Some(i) => Key::Property(i),
                None => Key::Other(key.to_owned()),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::super::compiled::compiled_of;
    use super::*;

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Part {
        #[schemars(regex(pattern = r"^[A-Z]{2}\d+$"))]
        code: String,
        #[schemars(range(min = 1, max = 10))]
        count: u32,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    enum Shape {
        Circle { r: f64 },
        Square(#[schemars(range(min = 1))] u32),
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        #[schemars(length(min = 1))]
        name: String,
        flag: bool,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Order {
        #[schemars(length(min = 1, max = 20))]
        item: String,
        #[schemars(range(min = 1, max = 1000))]
        quantity: u32,
        #[schemars(extend("exclusiveMinimum" = 0))]
        price: f64,
        #[schemars(length(max = 3))]
        tags: Vec<String>,
        note: Option<String>,
        part: Part,
        parts: Vec<Part>,
        maybe: Option<Part>,
        shape: Option<Shape>,
        strict: Option<Strict>,
        counts: HashMap<String, u8>,
        extra: Option<Value>,
    }

    /// The walk from bytes finds exactly the errors of the value walk, or gives up.
    #[test]
    fn the_walk_from_bytes_agrees_with_the_value_walk() {
        let root = compiled_of::<Order>().unwrap();
        let base = json!({
            "item": "widget", "quantity": 3, "price": 2.5, "tags": ["a"], "note": null,
            "part": {"code": "AB1", "count": 2}, "parts": [{"code": "CD2", "count": 3}],
            "maybe": null, "shape": {"Circle": {"r": 1.0}}, "strict": {"name": "x", "flag": true},
            "counts": {"a": 1}, "extra": [1, "two"]
        });
        let wrong = [
            json!(null),
            json!(true),
            json!(0),
            json!(-1),
            json!(2.5),
            json!(1e10),
            json!(""),
            json!("x"),
            json!("3"),
            json!("many"),
            json!([]),
            json!(["a", "b", "c", "d"]),
            json!({}),
            json!({"code": "ab", "count": 11}),
            json!({"code": "AB1", "count": 2, "more": 1}),
            json!([{"code": "ab", "count": 0}, {"count": 5}]),
            json!({"Square": 0}),
            json!({"name": "", "flag": "yes", "other": 1}),
            json!({"a": 300, "b": "x"}),
        ];
        let mut inputs = vec![base.clone(), json!([]), json!("text"), json!(3), json!({})];
        let fields: Vec<String> = base.as_object().unwrap().keys().cloned().collect();
        for (i, field) in fields.iter().enumerate() {
            for (j, w) in wrong.iter().enumerate() {
                let mut m = base.as_object().unwrap().clone();
                m.insert(field.clone(), w.clone());
                // A second field wrong too, so that errors come from several keys.
                let other = &fields[(i + j + 1) % fields.len()];
                if other != field {
                    m.insert(other.clone(), wrong[(i * 7 + j) % wrong.len()].clone());
                }
                inputs.push(Value::Object(m.clone()));
                // The same keys in the reverse order.
                let reversed: serde_json::Map<String, Value> = m.into_iter().rev().collect();
                inputs.push(Value::Object(reversed));
            }
            let mut m = base.as_object().unwrap().clone();
            m.remove(field);
            m.insert("unknown".into(), json!(1));
            inputs.push(Value::Object(m));
        }
        let (mut streamed, mut gave_up) = (0, 0);
        for input in inputs {
            let bytes = serde_json::to_vec(&input).unwrap();
            let by_value = root
                .validate(
                    input.clone(),
                    Mode::Json,
                    &[LocItem::Key("body".into())],
                    100,
                )
                .err();
            match root.stream_errors(&bytes, &[LocItem::Key("body".into())], 100) {
                Some(found) => {
                    streamed += 1;
                    assert_eq!(Some(found), by_value, "{input}");
                }
                None => gave_up += 1,
            }
        }
        // Most refused bodies are walked from their bytes.
        assert!(
            streamed > 5 * gave_up,
            "{streamed} walked, {gave_up} given up"
        );
    }

    /// What the walk from bytes leaves to the value walk.
    #[test]
    fn the_walk_from_bytes_gives_up_where_it_cannot_be_sure() {
        let root = compiled_of::<Strict>().unwrap();
        let body = [LocItem::Key("body".into())];
        let errors = |text: &str, room| root.stream_errors(text.as_bytes(), &body, room);
        assert!(errors(r#"{"name": "", "flag": true}"#, 100).is_some());
        // Valid: its value is built by the value walk.
        assert!(errors(r#"{"name": "x", "flag": true}"#, 100).is_none());
        // A required property missing: its error shows the whole object.
        assert!(errors(r#"{"name": ""}"#, 100).is_none());
        // A key twice; a body that is not JSON; more errors than reported.
        assert!(errors(r#"{"name": "", "name": "", "flag": true}"#, 100).is_none());
        assert!(errors(r#"{"name": "", "flag": tru"#, 100).is_none());
        assert!(errors(r#"{"name": "", "flag": 5, "a": 1}"#, 1).is_none());
    }
}
