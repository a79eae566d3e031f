//! The fast path keeps the promises too: while serde parses a body into its type, this
//! deserializer walks the compiled schema beside it and checks every declared
//! constraint (ranges, lengths, patterns) on the values as they go by. One pass, no
//! intermediate JSON value, no allocation of its own.
//!
//! It only answers "did anything break a constraint?". When something did, the parse
//! stops there (the rest of the body would be read for nothing), and the body is
//! validated again from its JSON value by [`Compiled::validate`], which reports
//! every error at once in pydantic's words — one source for the errors, whichever path
//! found them.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::compiled::{text_admits, Additional, Compiled, NodeId, Type};
use super::constraints::{length_admits, Num};
use super::lax;

/// Parse `bytes` as a `T`, checking the constraints of `compiled` on the way.
/// `Ok((value, true))`: parsed and every constraint held; `Ok((_, false))`: parsed, but
/// a constraint failed where the parse could not stop; `Err`: serde could not parse it,
/// or a constraint failed and the parse stopped there.
pub(crate) fn from_slice<T: de::DeserializeOwned>(
    bytes: &[u8],
    compiled: &Compiled,
) -> Result<(T, bool), serde_json::Error> {
    let state = State {
        compiled,
        held: Cell::new(true),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = T::deserialize(Checked {
        de: &mut de,
        node: Some(compiled.root),
        state: &state,
    })?;
    de.end()?;
    Ok((value, state.held.get()))
}

struct State<'c> {
    compiled: &'c Compiled,
    held: Cell<bool>,
}

impl State<'_> {
    fn broken(&self) {
        self.held.set(false);
    }

    /// Stop the parse: a constraint broke, the slow path takes over.
    fn stop<E: de::Error>(&self) -> E {
        self.broken();
        E::custom("a declared constraint does not hold")
    }

    /// The node that checks a value at `id`: `$ref`s followed, and an `Option`'s
    /// single branch taken. `None`: nothing this pass can check there.
    fn target(&self, id: Option<NodeId>) -> Option<&Type> {
        self.compiled.typed(id?)
    }

    /// The node a value of an `Option`, or a newtype, is checked against: the same.
    fn inner(&self, id: Option<NodeId>) -> Option<NodeId> {
        id
    }

    /// Whether the number `n` at `id` holds (`false`: the slow path must judge it).
    fn number(&self, id: Option<NodeId>, n: Num) -> bool {
        match self.target(id) {
            // An integer takes a float only when it has no fraction, as pydantic does.
            Some(Type::Integer { bounds }) => {
                (n.exact.is_some() || n.value().fract() == 0.0) && bounds.admits(n)
            }
            Some(Type::Number { bounds }) => bounds.admits(n),
            // pydantic reads 0 and 1 as booleans, nothing else.
            Some(Type::Boolean) => n.value() == 0.0 || n.value() == 1.0,
            // Text given a number: pydantic refuses it (a UUID or a datetime reads it as
            // a timestamp; the slow path does that), whatever serde would read. A model
            // or a list given a number: pydantic refuses what serde may accept.
            Some(Type::String { .. }) | Some(Type::Object { .. }) | Some(Type::Array { .. }) => {
                false
            }
            _ => true,
        }
    }

    /// A boolean: text and models refuse it (a duration reads it as 0 or 1 second; the
    /// slow path does that), a number reads it as 0 or 1, whatever serde would read.
    fn boolean(&self, id: Option<NodeId>, b: bool) -> bool {
        match self.target(id) {
            Some(Type::Integer { bounds }) | Some(Type::Number { bounds }) => {
                bounds.admits(Num::int(i128::from(b)))
            }
            Some(Type::String { .. }) | Some(Type::Object { .. }) | Some(Type::Array { .. }) => {
                false
            }
            _ => true,
        }
    }

    /// Whether the string `s` at `id` holds.
    fn text(&self, id: Option<NodeId>, s: &str) -> bool {
        match self.target(id) {
            Some(Type::String {
                min,
                max,
                pattern,
                format,
            }) => text_admits(s, *min, *max, pattern) && format.is_none_or(|f| f.passes(s)),
            // Text where the schema says a number or a boolean: only what pydantic reads
            // from text, within its bounds, may pass. Anything else is refused by the
            // slow path, so the parse stops here rather than spell out serde's error;
            // and a type whose serde reads text cannot take what the schema refuses.
            Some(Type::Integer { bounds }) => {
                lax::int(s).is_some_and(|i| bounds.admits(Num::int(i)))
            }
            Some(Type::Number { bounds }) => {
                lax::float(s).is_some_and(|f| bounds.admits(Num::float(f)))
            }
            Some(Type::Boolean) => lax::boolean(s).is_some(),
            Some(Type::Object { .. }) | Some(Type::Array { .. }) => false,
            _ => true,
        }
    }
}

/// A deserializer that checks what passes through it against the node `node`.
struct Checked<'s, 'c, D> {
    de: D,
    node: Option<NodeId>,
    state: &'s State<'c>,
}

/// The visitor side of [`Checked`].
struct Wrap<'s, 'c, V> {
    visitor: V,
    node: Option<NodeId>,
    state: &'s State<'c>,
}

macro_rules! forward {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            let wrap = Wrap { visitor, node: self.node, state: self.state };
            self.de.$method(wrap)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Checked<'_, '_, D> {
    type Error = D::Error;

    forward!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrap = Wrap {
            visitor,
            node: self.node,
            state: self.state,
        };
        self.de.deserialize_unit_struct(name, wrap)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrap = Wrap {
            visitor,
            node: self.node,
            state: self.state,
        };
        self.de.deserialize_newtype_struct(name, wrap)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrap = Wrap {
            visitor,
            node: self.node,
            state: self.state,
        };
        self.de.deserialize_tuple(len, wrap)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrap = Wrap {
            visitor,
            node: self.node,
            state: self.state,
        };
        self.de.deserialize_tuple_struct(name, len, wrap)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrap = Wrap {
            visitor,
            node: self.node,
            state: self.state,
        };
        self.de.deserialize_struct(name, fields, wrap)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrap = Wrap {
            visitor,
            node: self.node,
            state: self.state,
        };
        self.de.deserialize_enum(name, variants, wrap)
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

macro_rules! visit_int {
    ($($method:ident: $t:ty),*) => {$(
        fn $method<E: de::Error>(self, v: $t) -> Result<Self::Value, E> {
            if !self.state.number(self.node, Num::int(v as i128)) {
                return Err(self.state.stop());
            }
            self.visitor.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<'_, '_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    visit_int!(visit_i8: i8, visit_i16: i16, visit_i32: i32, visit_i64: i64,
               visit_u8: u8, visit_u16: u16, visit_u32: u32, visit_u64: u64);

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        if !self.state.number(self.node, Num::int(v)) {
            return Err(self.state.stop());
        }
        self.visitor.visit_i128(v)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        let n = i128::try_from(v).map_or(Num::float(v as f64), Num::int);
        if !self.state.number(self.node, n) {
            return Err(self.state.stop());
        }
        self.visitor.visit_u128(v)
    }

    fn visit_f32<E: de::Error>(self, v: f32) -> Result<Self::Value, E> {
        if !self.state.number(self.node, Num::float(v.into())) {
            return Err(self.state.stop());
        }
        self.visitor.visit_f32(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if !self.state.number(self.node, Num::float(v)) {
            return Err(self.state.stop());
        }
        self.visitor.visit_f64(v)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        if !self.state.boolean(self.node, v) {
            return Err(self.state.stop());
        }
        self.visitor.visit_bool(v)
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<Self::Value, E> {
        let mut buf = [0u8; 4];
        if !self.state.text(self.node, v.encode_utf8(&mut buf)) {
            return Err(self.state.stop());
        }
        self.visitor.visit_char(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if !self.state.text(self.node, v) {
            return Err(self.state.stop());
        }
        self.visitor.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        if !self.state.text(self.node, v) {
            return Err(self.state.stop());
        }
        self.visitor.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        if !self.state.text(self.node, &v) {
            return Err(self.state.stop());
        }
        self.visitor.visit_string(v)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        self.visitor.visit_bytes(v)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        self.visitor.visit_borrowed_bytes(v)
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        self.visitor.visit_byte_buf(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let inner = Checked {
            de: d,
            node: self.state.inner(self.node),
            state: self.state,
        };
        self.visitor.visit_some(inner)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let inner = Checked {
            de: d,
            node: self.state.inner(self.node),
            state: self.state,
        };
        self.visitor.visit_newtype_struct(inner)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let (prefix, items, min, max) = match self.state.target(self.node) {
            Some(Type::Array {
                prefix,
                items,
                min,
                max,
                ..
            }) => (prefix.as_slice(), *items, *min, *max),
            // A model given a list: serde reads structs from arrays, pydantic does not.
            Some(Type::Object { .. }) => return Err(self.state.stop()),
            _ => (&[][..], None, None, None),
        };
        let counted = Cell::new(0u64);
        let wrapped = Seq {
            seq,
            prefix,
            items,
            index: &counted,
            state: self.state,
        };
        let out = self.visitor.visit_seq(wrapped)?;
        if !length_admits(counted.get(), min, max) {
            return Err(self.state.stop());
        }
        Ok(out)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let (properties, fallback) = match self.state.target(self.node) {
            // Values under keys no property names: a map's values, or integer keys'.
            Some(Type::Object {
                properties,
                additional,
                patterns,
                int_keys,
                ..
            }) if patterns.is_empty() => {
                let fallback = int_keys.or(match additional {
                    Additional::Schema(id) => Some(*id),
                    _ => None,
                });
                (properties.as_slice(), fallback)
            }
            // Keys matched by patterns: the slow path sorts them out.
            Some(Type::Object { .. }) => return Err(self.state.stop()),
            _ => (&[][..], None),
        };
        // Which required properties were seen: serde fills a missing `Option` with
        // `None`, where the schema says the field is required.
        let required = properties.iter().filter(|(_, _, r)| *r).count();
        let seen = Cell::new(0usize);
        let wrapped = Map {
            map,
            properties,
            fallback,
            next: Cell::new(None),
            expected: Cell::new(0),
            seen: &seen,
            state: self.state,
        };
        let out = self.visitor.visit_map(wrapped)?;
        if seen.get() < required {
            return Err(self.state.stop());
        }
        Ok(out)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        // Enums with data are unions: a type with constraints inside one is validated
        // from its JSON value instead (`Compiled::checks_in_unions`).
        self.visitor.visit_enum(data)
    }
}

/// Elements of a list, each checked against its item node.
struct Seq<'a, 's, 'c, A> {
    seq: A,
    prefix: &'a [NodeId],
    items: Option<NodeId>,
    index: &'a Cell<u64>,
    state: &'s State<'c>,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<'_, '_, '_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let i = self.index.get();
        let node = self.prefix.get(i as usize).copied().or(self.items);
        let out = self.seq.next_element_seed(Seed {
            seed,
            node,
            state: self.state,
        })?;
        if out.is_some() {
            self.index.set(i + 1);
        }
        Ok(out)
    }

    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

/// Entries of an object: each value checked against its property's node.
struct Map<'a, 's, 'c, A> {
    map: A,
    properties: &'a [(String, NodeId, bool)],
    /// The node of values under keys no property names.
    fallback: Option<NodeId>,
    /// The node of the value that comes next, found from its key.
    next: Cell<Option<NodeId>>,
    /// The property whose key is expected next: the one after the last found.
    expected: Cell<usize>,
    /// How many required properties were seen (each counted once: JSON objects with a
    /// repeated key are refused by serde's derive).
    seen: &'a Cell<usize>,
    state: &'s State<'c>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<'_, '_, '_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let properties = self.properties;
        let fallback = self.fallback;
        let next = &self.next;
        let seen = self.seen;
        let expected = &self.expected;
        next.set(None);
        self.map.next_key_seed(KeySeed {
            seed,
            found: &|key: &str| {
                // Keys mostly come in the order the properties are declared: the one
                // after the last is tried first.
                let at = match properties.get(expected.get()) {
                    Some((name, _, _)) if name == key => Some(expected.get()),
                    _ => properties.iter().position(|(name, _, _)| name == key),
                };
                expected.set(at.map_or(0, |i| i + 1));
                let node = match at.map(|i| &properties[i]) {
                    Some((_, id, required)) => {
                        if *required {
                            seen.set(seen.get() + 1);
                        }
                        Some(*id)
                    }
                    None => fallback,
                };
                next.set(node);
            },
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        let node = self.next.get().or(self.fallback);
        self.map.next_value_seed(Seed {
            seed,
            node,
            state: self.state,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A seed whose value is checked against `node`.
struct Seed<'s, 'c, T> {
    seed: T,
    node: Option<NodeId>,
    state: &'s State<'c>,
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, '_, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T::Value, D::Error> {
        self.seed.deserialize(Checked {
            de: d,
            node: self.node,
            state: self.state,
        })
    }
}

/// A key seed that reports the key's text, when it is text.
struct KeySeed<'f, K> {
    seed: K,
    found: &'f dyn Fn(&str),
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        self.seed.deserialize(KeyDe {
            de: d,
            found: self.found,
        })
    }
}

/// A key's deserializer: forwards everything, and reports text keys.
struct KeyDe<'f, D> {
    de: D,
    found: &'f dyn Fn(&str),
}

/// A key's visitor: reports text keys.
struct KeyVisitor<'f, V> {
    visitor: V,
    found: &'f dyn Fn(&str),
}

macro_rules! forward_key {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.de.$method(KeyVisitor { visitor, found: self.found })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDe<'_, D> {
    type Error = D::Error;

    forward_key!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_unit_struct(
            name,
            KeyVisitor {
                visitor,
                found: self.found,
            },
        )
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_newtype_struct(
            name,
            KeyVisitor {
                visitor,
                found: self.found,
            },
        )
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_tuple(
            len,
            KeyVisitor {
                visitor,
                found: self.found,
            },
        )
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_tuple_struct(
            name,
            len,
            KeyVisitor {
                visitor,
                found: self.found,
            },
        )
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_struct(
            name,
            fields,
            KeyVisitor {
                visitor,
                found: self.found,
            },
        )
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_enum(
            name,
            variants,
            KeyVisitor {
                visitor,
                found: self.found,
            },
        )
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

macro_rules! key_passthrough {
    ($($method:ident: $t:ty),*) => {$(
        fn $method<E: de::Error>(self, v: $t) -> Result<Self::Value, E> {
            self.visitor.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        (self.found)(v);
        self.visitor.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        (self.found)(v);
        self.visitor.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        (self.found)(&v);
        self.visitor.visit_string(v)
    }

    key_passthrough!(visit_bool: bool, visit_i8: i8, visit_i16: i16, visit_i32: i32,
        visit_i64: i64, visit_i128: i128, visit_u8: u8, visit_u16: u16, visit_u32: u32,
        visit_u64: u64, visit_u128: u128, visit_f32: f32, visit_f64: f64, visit_char: char,
        visit_byte_buf: Vec<u8>);

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        self.visitor.visit_bytes(v)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        self.visitor.visit_borrowed_bytes(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.visitor.visit_some(d)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.visitor.visit_newtype_struct(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_map(map)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_enum(data)
    }
}
