//! A body type's JSON Schema, compiled once into a tree of checks: what the document
//! says about a field is what the server enforces, because both come from the same
//! schema.
//!
//! [`Compiled::validate`] checks a parsed value, collecting *every* error with
//! pydantic's wording and applying pydantic's lax coercions (`"50.5"` for a float,
//! `"3"` for an int, `"yes"` for a bool). The fast path of `Json<T>` checks the
//! declared constraints while serde parses (see `checked.rs`), using the same nodes.
//!
//! The schema is what schemars 1 generates (JSON Schema 2020-12, named types under
//! `$defs`); keywords it does not emit are ignored. See
//! `docs/decisions/0002-body-validation.md` and `0011-one-validation-core.md`.

use std::any::TypeId;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Number, Value};

use super::constraints::{self, Bound, Bounds, Check, Measured, Num, Pattern};
use super::{lax, messages, LocItem, ValidationError};

/// How deep the walk goes; anything deeper is left to serde.
pub(super) const MAX_DEPTH: usize = 64;

/// What kind of input is being validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A parsed JSON body.
    Json,
    /// An urlencoded or multipart form: every value is a string, repeated keys are
    /// arrays, an empty field is absent.
    Form,
    /// A form read as separate fields (FastAPI's `Form()` parameters of a dependency
    /// class, such as `OAuth2PasswordRequestForm`): as [`Mode::Form`], but a missing
    /// field's input is `null`, not the fields sent.
    FormFields,
    /// Query, header or cookie parameters gathered into a model: strings, repeated
    /// keys are arrays, an empty value is a value.
    Params,
}

/// JSON Schema keywords that constrain a value and that neither this validator nor
/// serde enforces.
const UNENFORCED: [&str; 10] = [
    "contains",
    "minContains",
    "maxContains",
    "minProperties",
    "maxProperties",
    "not",
    "if",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
];

/// The `patternProperties` key schemars writes for a map with integer keys.
const INT_KEYS: &str = "^-?\\d+$";

/// The index of a node in [`Compiled::nodes`].
pub(crate) type NodeId = usize;

/// One schema, compiled.
#[derive(Debug)]
pub(crate) struct Node {
    /// `allOf`: checked first, in order.
    pub(crate) all_of: Vec<NodeId>,
    pub(crate) kind: Kind,
}

/// What a schema checks.
#[derive(Debug)]
pub(crate) enum Kind {
    /// Anything goes (`true`, an unknown keyword set, an unresolvable `$ref`).
    Any,
    /// A `$ref` to a named schema.
    Ref(NodeId),
    /// `anyOf`/`oneOf`.
    Union(Union),
    /// `const`.
    Const(Value),
    /// `enum`: a named type's (an enum, `enum` errors) or a `Literal`'s (inline, as
    /// `#[schemars(inline)]` writes it: `literal_error`s).
    Enum { choices: Vec<Value>, literal: bool },
    /// `type`, possibly with `null` beside it (`["string", "null"]`).
    Typed { ty: Type, nullable: bool },
}

/// A union's branches, and for a serde-tagged enum its tag.
#[derive(Debug)]
pub(crate) struct Union {
    /// `null` is one of the branches (an `Option`).
    pub(crate) nullable: bool,
    /// The branches other than `null`, with the name pydantic gives each in `loc`.
    pub(crate) branches: Vec<(String, NodeId)>,
    /// The tag property, and each tag's branch.
    pub(crate) tag: Option<(String, Vec<(String, NodeId)>)>,
}

/// What an array is to pydantic, for its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArrayKind {
    List,
    Set,
    Tuple,
}

/// A typed schema and its constraints.
#[derive(Debug)]
pub(crate) enum Type {
    Null,
    Boolean,
    Integer {
        bounds: Bounds,
    },
    Number {
        bounds: Bounds,
    },
    String {
        min: Option<u64>,
        max: Option<u64>,
        pattern: Option<(Pattern, String)>,
        format: Option<super::formats::Format>,
    },
    Array {
        prefix: Vec<NodeId>,
        items: Option<NodeId>,
        min: Option<u64>,
        max: Option<u64>,
        /// What pydantic calls it in errors: a `List`, a `Set` (`uniqueItems`) or a
        /// `Tuple` (only `prefixItems`).
        shape: ArrayKind,
    },
    Object {
        /// Declared properties, in the schema's order, and whether each is required.
        properties: Vec<(String, NodeId, bool)>,
        /// Whether the schema names properties (a model) or not (a map).
        model: bool,
        /// `patternProperties`: keys matching a pattern, and their values' node.
        patterns: Vec<(Pattern, NodeId)>,
        /// A map with integer keys (schemars' `^-?\d+$` pattern): keys are read as
        /// pydantic reads integers, and one that is not is an `int_parsing` error.
        int_keys: Option<NodeId>,
        additional: Additional,
    },
}

/// What happens to properties the schema does not name.
#[derive(Debug)]
pub(crate) enum Additional {
    Allowed,
    Forbidden,
    Schema(NodeId),
}

/// A compiled schema: its nodes, the root, and what it asks of the fast path.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: NodeId,
    /// Some node declares a constraint that serde does not enforce by itself (a
    /// range, a length, a pattern …): the fast path has to check.
    pub(crate) checks: bool,
    /// Such a constraint sits inside a union, where the fast path cannot tell which
    /// branch serde took: the type is always validated from its JSON value.
    pub(crate) checks_in_unions: bool,
    /// For each node, the typed node a value there is checked against
    /// ([`Compiled::typed_node`]), worked out once: the fast path asks for every value.
    typed: Vec<Option<NodeId>>,
}

/// Hashes a `TypeId` by its own bits: it is already a hash.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_ne_bytes(word);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

type ById = HashMap<TypeId, &'static Compiled, std::hash::BuildHasherDefault<IdHasher>>;

/// The compiled schema of `T`, compiled once per type and kept for the life of the
/// process (one per body type). Looked up per request from a per-thread cache, so the
/// fast path takes no lock. `Err`: the schema declares a pattern that is not a valid
/// regular expression.
pub(crate) fn compiled_of<T: schemars::JsonSchema + 'static>() -> Result<&'static Compiled, String>
{
    thread_local! {
        static LOCAL: std::cell::RefCell<ById> = std::cell::RefCell::new(ById::default());
    }
    static SHARED: OnceLock<Mutex<ById>> = OnceLock::new();
    let id = TypeId::of::<T>();
    if let Some(c) = LOCAL.with(|l| l.borrow().get(&id).copied()) {
        return Ok(c);
    }
    let shared = SHARED.get_or_init(Default::default);
    let found = shared.lock().ok().and_then(|m| m.get(&id).copied());
    let compiled = match found {
        Some(c) => c,
        None => {
            let schema = schemars::schema_for!(T).to_value();
            let compiled: &'static Compiled = Box::leak(Box::new(
                Compiled::new(&schema)
                    .map_err(|e| format!("`{}`: {e}", std::any::type_name::<T>()))?,
            ));
            match shared.lock() {
                Ok(mut m) => *m.entry(id).or_insert(compiled),
                Err(_) => compiled,
            }
        }
    };
    LOCAL.with(|l| l.borrow_mut().insert(id, compiled));
    Ok(compiled)
}

/// The range of an integer type, by the `format` schemars gives it.
fn type_range(format: Option<&str>) -> Option<(i128, i128)> {
    Some(match format? {
        "int8" => (i8::MIN.into(), i8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "int32" => (i32::MIN.into(), i32::MAX.into()),
        "int64" | "int" => (i64::MIN.into(), i64::MAX.into()),
        "uint8" => (0, u8::MAX.into()),
        "uint16" => (0, u16::MAX.into()),
        "uint32" => (0, u32::MAX.into()),
        "uint64" | "uint" => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// Compiles schemas into nodes; `$defs` are compiled on first reference, so recursive
/// types work.
struct Compiler<'a> {
    root: &'a Value,
    nodes: Vec<Node>,
    defs: HashMap<String, NodeId>,
    checks: bool,
    checks_in_unions: bool,
    union_depth: usize,
}

impl Compiled {
    pub(crate) fn new(root: &Value) -> Result<Self, String> {
        let mut c = Compiler {
            root,
            nodes: Vec::new(),
            defs: HashMap::new(),
            checks: false,
            checks_in_unions: false,
            union_depth: 0,
        };
        let root_id = c.compile(root)?;
        let mut compiled = Compiled {
            nodes: c.nodes,
            root: root_id,
            checks: c.checks,
            checks_in_unions: c.checks_in_unions,
            typed: Vec::new(),
        };
        compiled.typed = (0..compiled.nodes.len())
            .map(|id| compiled.typed_node(id))
            .collect();
        Ok(compiled)
    }

    /// The typed node (`Kind::Typed`) that checks a value at `id`: `$ref`s followed and
    /// an `Option`'s single branch taken. `None` where no one type decides (an `allOf`,
    /// a union of several, anything).
    fn typed_node(&self, id: NodeId) -> Option<NodeId> {
        let mut id = self.resolve_id(id);
        for _ in 0..MAX_DEPTH {
            let node = &self.nodes[id];
            if !node.all_of.is_empty() {
                return None;
            }
            match &node.kind {
                Kind::Typed { .. } => return Some(id),
                Kind::Union(u) if u.branches.len() == 1 => {
                    id = self.resolve_id(u.branches[0].1);
                }
                _ => return None,
            }
        }
        None
    }

    /// The type a value at `id` is checked against, as [`typed_node`](Self::typed_node)
    /// finds it (looked up, not walked).
    pub(crate) fn typed(&self, id: NodeId) -> Option<&Type> {
        match &self.nodes[self.typed[id]?].kind {
            Kind::Typed { ty, .. } => Some(ty),
            _ => None,
        }
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Follow `$ref`s to the node that checks.
    pub(crate) fn resolve(&self, id: NodeId) -> &Node {
        &self.nodes[self.resolve_id(id)]
    }

    /// The id of the node [`resolve`](Self::resolve) finds.
    fn resolve_id(&self, mut id: NodeId) -> NodeId {
        for _ in 0..MAX_DEPTH {
            match &self.nodes[id].kind {
                Kind::Ref(target) if self.nodes[id].all_of.is_empty() => id = *target,
                _ => break,
            }
        }
        id
    }

    /// Validate `value`. `Ok`: the value with lax coercions applied; `Err`: the
    /// errors, each `loc` starting with `loc_prefix` — every one up to `room`, then
    /// one more (so the caller knows the list was cut) and the walk stops.
    pub(crate) fn validate(
        &'static self,
        value: Value,
        mode: Mode,
        loc_prefix: &[LocItem],
        room: usize,
    ) -> Result<Value, Vec<ValidationError>> {
        let mut v = Validator::new(self, mode, room);
        let mut loc = loc_prefix.to_vec();
        let out = v.check(self.root, value, &mut loc, 0);
        if v.errors.is_empty() {
            Ok(out)
        } else {
            Err(v.errors)
        }
    }
}

impl Compiler<'_> {
    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn declared(&mut self) {
        self.checks = true;
        if self.union_depth > 0 {
            self.checks_in_unions = true;
        }
    }

    fn reference(&mut self, r: &str) -> Result<NodeId, String> {
        // `#`: the whole schema, as schemars writes a type that contains itself and
        // has no definitions of its own (`child: Option<Box<Self>>`).
        if r == "#" {
            if let Some(id) = self.defs.get("#") {
                return Ok(*id);
            }
            let id = self.push(Node {
                all_of: Vec::new(),
                kind: Kind::Any,
            });
            self.defs.insert("#".to_owned(), id);
            let whole = self.root.clone();
            let compiled = self.compile(&whole)?;
            self.nodes[id].kind = Kind::Ref(compiled);
            return Ok(id);
        }
        let Some(name) = r
            .strip_prefix("#/$defs/")
            .or_else(|| r.strip_prefix("#/definitions/"))
        else {
            return Ok(self.push(Node {
                all_of: Vec::new(),
                kind: Kind::Any,
            }));
        };
        if let Some(id) = self.defs.get(name) {
            return Ok(*id);
        }
        let target = self
            .root
            .get("$defs")
            .or_else(|| self.root.get("definitions"))
            .and_then(|d| d.get(name))
            .cloned();
        // A placeholder first, so a type that refers to itself finds it.
        let id = self.push(Node {
            all_of: Vec::new(),
            kind: Kind::Any,
        });
        self.defs.insert(name.to_owned(), id);
        if let Some(target) = target {
            let compiled = self.compile(&target)?;
            self.named_enum(compiled);
            self.nodes[id].kind = Kind::Ref(compiled);
        }
        Ok(id)
    }

    /// A definition that is an enum (or an `Option` of one) is a named type's: its
    /// errors are `enum`, not `literal_error`.
    fn named_enum(&mut self, id: NodeId) {
        let enum_id = match &self.nodes[id].kind {
            Kind::Union(u) if u.branches.len() == 1 && u.branches[0].0 == "enum" => u.branches[0].1,
            _ => id,
        };
        if let Kind::Enum { literal, .. } = &mut self.nodes[enum_id].kind {
            *literal = false;
        }
    }

    fn compile(&mut self, schema: &Value) -> Result<NodeId, String> {
        let Value::Object(s) = schema else {
            return Ok(self.push(Node {
                all_of: Vec::new(),
                kind: Kind::Any,
            }));
        };
        // A constraint the document would show and nothing would enforce is refused
        // when the app is built, never served as a silent promise.
        if let Some(keyword) = UNENFORCED.iter().find(|k| s.contains_key(**k)) {
            return Err(format!(
                "declares `{keyword}`, which hasten does not enforce; remove it, or check \
                 it in the handler and leave it out of the schema"
            ));
        }
        if let Some(Value::String(r)) = s.get("$ref") {
            let target = self.reference(r)?;
            return Ok(self.push(Node {
                all_of: Vec::new(),
                kind: Kind::Ref(target),
            }));
        }
        let mut all_of = Vec::new();
        if let Some(Value::Array(all)) = s.get("allOf") {
            for sub in all {
                all_of.push(self.compile(sub)?);
            }
        }
        let kind = if let Some(Value::Array(branches)) = s.get("anyOf").or_else(|| s.get("oneOf")) {
            self.union(branches)?
        } else if let Some(expected) = s.get("const") {
            Kind::Const(expected.clone())
        } else if let Some(Value::Array(choices)) = s.get("enum") {
            Kind::Enum {
                choices: choices.clone(),
                literal: true,
            }
        } else {
            let (ty, nullable) = match s.get("type") {
                Some(Value::String(t)) => (Some(t.as_str()), false),
                Some(Value::Array(types)) => (
                    types
                        .iter()
                        .filter_map(Value::as_str)
                        .find(|t| *t != "null"),
                    types.iter().any(|t| t == "null"),
                ),
                _ => (None, false),
            };
            match (ty, nullable) {
                (Some(t), _) => match self.typed(t, s)? {
                    Some(ty) => Kind::Typed { ty, nullable },
                    None => Kind::Any,
                },
                (None, true) => Kind::Typed {
                    ty: Type::Null,
                    nullable: false,
                },
                (None, false) => Kind::Any,
            }
        };
        Ok(self.push(Node { all_of, kind }))
    }

    fn union(&mut self, branches: &[Value]) -> Result<Kind, String> {
        let is_null = |b: &Value| b.get("type").and_then(Value::as_str) == Some("null");
        let nullable = branches.iter().any(is_null);
        let real: Vec<&Value> = branches.iter().filter(|b| !is_null(b)).collect();
        // A unit enum whose variants carry docs is written as `oneOf` of constants: it
        // is still one enum to pydantic, with one `enum` error.
        let constants: Option<Vec<Value>> = real
            .iter()
            .map(|b| {
                let o = b.as_object()?;
                let only_docs = o
                    .keys()
                    .all(|k| matches!(k.as_str(), "const" | "type" | "description" | "title"));
                only_docs.then(|| o.get("const").cloned()).flatten()
            })
            .collect();
        if let Some(values) = constants.filter(|v| v.len() > 1) {
            let id = self.push(Node {
                all_of: Vec::new(),
                kind: Kind::Enum {
                    choices: values,
                    literal: true,
                },
            });
            return Ok(Kind::Union(Union {
                nullable,
                branches: vec![("enum".to_owned(), id)],
                tag: None,
            }));
        }
        // `Option<T>`: one branch besides null is not a choice the fast path must see.
        let choice = real.len() > 1;
        if choice {
            self.union_depth += 1;
        }
        let mut compiled = Vec::new();
        for b in &real {
            let name = self.branch_name(b);
            compiled.push((name, self.compile(b)?));
        }
        let tag = if choice {
            self.discriminator(&real, &compiled)
        } else {
            None
        };
        if choice {
            self.union_depth -= 1;
        }
        Ok(Kind::Union(Union {
            nullable,
            branches: compiled,
            tag,
        }))
    }

    /// For a serde internally tagged enum: the tag property and each branch's tag.
    fn discriminator(
        &self,
        branches: &[&Value],
        compiled: &[(String, NodeId)],
    ) -> Option<(String, Vec<(String, NodeId)>)> {
        let mut tag: Option<String> = None;
        let mut tags = Vec::new();
        for (b, (_, id)) in branches.iter().zip(compiled) {
            let b = match b.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let name = r
                        .strip_prefix("#/$defs/")
                        .or_else(|| r.strip_prefix("#/definitions/"))?;
                    self.root
                        .get("$defs")
                        .or_else(|| self.root.get("definitions"))?
                        .get(name)?
                }
                None => b,
            };
            let props = b.get("properties")?.as_object()?;
            let (name, value) = props.iter().find_map(|(k, v)| {
                v.get("const")
                    .and_then(Value::as_str)
                    .map(|c| (k.clone(), c.to_owned()))
            })?;
            match &tag {
                Some(t) if *t != name => return None,
                _ => tag = Some(name),
            }
            tags.push((value, *id));
        }
        tag.map(|t| (t, tags))
    }

    fn branch_name(&self, branch: &Value) -> String {
        if let Some(r) = branch.get("$ref").and_then(Value::as_str) {
            return r.rsplit('/').next().unwrap_or(r).to_owned();
        }
        match branch.get("type").and_then(Value::as_str) {
            Some("integer") => "int",
            Some("number") => "float",
            Some("string") => "str",
            Some("boolean") => "bool",
            Some("array") => "list",
            Some("object") => "dict",
            _ => "union",
        }
        .to_owned()
    }

    fn bounds(&mut self, s: &Map<String, Value>) -> Bounds {
        let get = |k: &str| s.get(k).and_then(Bound::of);
        Bounds {
            gt: get("exclusiveMinimum"),
            ge: get("minimum"),
            lt: get("exclusiveMaximum"),
            le: get("maximum"),
            multiple_of: get("multipleOf"),
        }
    }

    /// A `type` and its keywords; `None` for a type this validator does not know.
    fn typed(&mut self, ty: &str, s: &Map<String, Value>) -> Result<Option<Type>, String> {
        let length = |k: &str| s.get(k).and_then(Value::as_u64);
        Ok(Some(match ty {
            "null" => Type::Null,
            "boolean" => Type::Boolean,
            "integer" => {
                let mut bounds = self.bounds(s);
                let range = type_range(s.get("format").and_then(Value::as_str));
                // Bounds that are only the Rust type's range are enforced by serde; any
                // other is declared and must be checked.
                let declared = bounds.gt.is_some()
                    || bounds.lt.is_some()
                    || bounds.multiple_of.is_some()
                    || match range {
                        Some((min, max)) => {
                            bounds.ge.is_some_and(|b| b != Bound::Int(min))
                                || bounds.le.is_some_and(|b| b != Bound::Int(max))
                        }
                        None => bounds.ge.is_some() || bounds.le.is_some(),
                    };
                if declared {
                    self.declared();
                }
                if let Some((min, max)) = range {
                    bounds.ge = bounds.ge.or(Some(Bound::Int(min)));
                    bounds.le = bounds.le.or(Some(Bound::Int(max)));
                }
                Type::Integer { bounds }
            }
            "number" => {
                let bounds = self.bounds(s);
                if !bounds.is_empty() {
                    self.declared();
                }
                Type::Number { bounds }
            }
            "string" => {
                let pattern = match s.get("pattern").and_then(Value::as_str) {
                    Some(p) => Some((
                        constraints::pattern(p)
                            .map_err(|e| format!("invalid pattern `{p}`: {e}"))?,
                        p.to_owned(),
                    )),
                    None => None,
                };
                let (min, max) = (length("minLength"), length("maxLength"));
                let format = s
                    .get("format")
                    .and_then(Value::as_str)
                    .and_then(super::formats::Format::of);
                if min.is_some() || max.is_some() || pattern.is_some() || format.is_some() {
                    self.declared();
                }
                Type::String {
                    min,
                    max,
                    pattern,
                    format,
                }
            }
            "array" => {
                let mut prefix = Vec::new();
                if let Some(Value::Array(p)) = s.get("prefixItems") {
                    for sub in p {
                        prefix.push(self.compile(sub)?);
                    }
                }
                let items = match s.get("items") {
                    Some(sub) => Some(self.compile(sub)?),
                    None => None,
                };
                let (min, max) = (length("minItems"), length("maxItems"));
                // Tuples' lengths are serde's to enforce.
                if prefix.is_empty() && (min.is_some() || max.is_some()) {
                    self.declared();
                }
                let shape = if !prefix.is_empty() && items.is_none() {
                    ArrayKind::Tuple
                } else if s.get("uniqueItems") == Some(&Value::Bool(true)) {
                    ArrayKind::Set
                } else {
                    ArrayKind::List
                };
                Type::Array {
                    prefix,
                    items,
                    min,
                    max,
                    shape,
                }
            }
            "object" => {
                let required: Vec<&str> = s
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut properties = Vec::new();
                let props = s.get("properties").and_then(Value::as_object);
                if let Some(props) = props {
                    for (name, sub) in props {
                        let id = self.compile(sub)?;
                        properties.push((name.clone(), id, required.contains(&name.as_str())));
                    }
                }
                let additional = match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => Additional::Forbidden,
                    Some(extra @ Value::Object(_)) => Additional::Schema(self.compile(extra)?),
                    _ => Additional::Allowed,
                };
                let mut patterns = Vec::new();
                let mut int_keys = None;
                if let Some(Value::Object(pp)) = s.get("patternProperties") {
                    for (p, sub) in pp {
                        let id = self.compile(sub)?;
                        if p == INT_KEYS && pp.len() == 1 {
                            int_keys = Some(id);
                        } else {
                            let re = constraints::pattern(p)
                                .map_err(|e| format!("invalid key pattern `{p}`: {e}"))?;
                            patterns.push((re, id));
                        }
                    }
                }
                Type::Object {
                    properties,
                    model: props.is_some(),
                    patterns,
                    int_keys,
                    additional,
                }
            }
            _ => return Ok(None),
        }))
    }
}

/// An object schema's parts, for the walk.
struct Shape<'a> {
    properties: &'a [(String, NodeId, bool)],
    model: bool,
    patterns: &'a [(Pattern, NodeId)],
    int_keys: Option<NodeId>,
    additional: &'a Additional,
}

/// Walks a value against the nodes.
pub(super) struct Validator {
    /// Compiled schemas live as long as the process, so a location can borrow a
    /// property's name instead of copying it.
    pub(super) compiled: &'static Compiled,
    pub(super) mode: Mode,
    /// How many errors are wanted; one more is kept to show there were more.
    pub(super) room: usize,
    pub(super) errors: Vec<ValidationError>,
}

impl Validator {
    /// A walk over `compiled` in `mode`, keeping up to `room` errors (and one more).
    pub(super) fn new(compiled: &'static Compiled, mode: Mode, room: usize) -> Self {
        Validator {
            compiled,
            mode,
            room,
            errors: Vec::new(),
        }
    }

    pub(super) fn full(&self) -> bool {
        self.errors.len() > self.room
    }

    pub(super) fn fail(&mut self, err: ValidationError, loc: &[LocItem]) {
        if !self.full() {
            self.errors.push(err.at(loc.to_vec()));
        }
    }

    pub(super) fn check(
        &mut self,
        id: NodeId,
        value: Value,
        loc: &mut Vec<LocItem>,
        depth: usize,
    ) -> Value {
        if depth > MAX_DEPTH || self.full() {
            return value;
        }
        let node = self.compiled.node(id);
        let mut value = value;
        for &sub in &node.all_of {
            value = self.check(sub, value, loc, depth + 1);
        }
        match &node.kind {
            Kind::Any => value,
            Kind::Ref(target) => self.check(*target, value, loc, depth + 1),
            Kind::Union(u) => self.union(u, value, loc, depth),
            Kind::Const(expected) => self.constant(expected, value, loc),
            Kind::Enum { choices, literal } => self.enumeration(choices, *literal, value, loc),
            Kind::Typed { ty, nullable } => {
                if *nullable && value.is_null() {
                    return Value::Null;
                }
                self.typed(ty, value, loc, depth)
            }
        }
    }

    fn typed(
        &mut self,
        ty: &'static Type,
        value: Value,
        loc: &mut Vec<LocItem>,
        depth: usize,
    ) -> Value {
        match ty {
            Type::Object {
                properties,
                model,
                patterns,
                int_keys,
                additional,
            } => {
                let shape = Shape {
                    properties,
                    model: *model,
                    patterns,
                    int_keys: *int_keys,
                    additional,
                };
                self.object(&shape, value, loc, depth)
            }
            Type::Array {
                prefix,
                items,
                min,
                max,
                shape,
            } => self.array(prefix, *items, *min, *max, *shape, value, loc, depth),
            Type::String {
                min,
                max,
                pattern,
                format,
            } => self.string(*min, *max, pattern, *format, value, loc),
            Type::Integer { bounds } => self.integer(bounds, value, loc),
            Type::Number { bounds } => self.number(bounds, value, loc),
            Type::Boolean => self.boolean(value, loc),
            Type::Null => {
                if !value.is_null() {
                    self.fail(
                        ValidationError::new(
                            "none_required",
                            "Input should be None",
                            value.clone(),
                        ),
                        loc,
                    );
                }
                value
            }
        }
    }

    /// An object, checked in place: each property's value is replaced by its checked
    /// form, so the body is not copied into a new map.
    fn object(
        &mut self,
        shape: &Shape<'static>,
        value: Value,
        loc: &mut Vec<LocItem>,
        depth: usize,
    ) -> Value {
        let Value::Object(mut map) = value else {
            let err = if shape.model {
                messages::model_attributes_type(value.clone())
            } else {
                messages::dict_type(value.clone())
            };
            self.fail(err, loc);
            return value;
        };
        if matches!(self.mode, Mode::Form | Mode::FormFields) {
            // FastAPI treats an empty form field as absent.
            map.retain(|_, v| v.as_str() != Some(""));
        }
        // A missing field's input: the object as sent (pydantic's, for a model), or
        // null for fields read one by one.
        let original = (self.mode != Mode::FormFields
            && shape
                .properties
                .iter()
                .any(|(name, _, required)| *required && !map.contains_key(name)))
        .then(|| Value::Object(map.clone()));
        let mut found = 0;
        for (name, sub, required) in shape.properties {
            loc.push(LocItem::Key(Cow::Borrowed(name.as_str())));
            match map.get_mut(name.as_str()) {
                Some(slot) => {
                    found += 1;
                    let v = std::mem::take(slot);
                    *slot = self.check(*sub, v, loc, depth + 1);
                }
                None if *required => {
                    let mut e = ValidationError::missing();
                    e.input = original.clone().unwrap_or(Value::Null);
                    self.fail(e, loc);
                }
                None => {}
            }
            loc.pop();
        }
        if found == map.len() {
            return Value::Object(map);
        }
        // The keys no property names, in the order they came.
        let is_property = |k: &str| shape.properties.iter().any(|(name, _, _)| name == k);
        if let Some(values) = shape.int_keys {
            // Integer keys are rewritten in their canonical form: the map is rebuilt.
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                if is_property(&k) {
                    out.insert(k, v);
                    continue;
                }
                loc.push(LocItem::Key(Cow::Owned(k.clone())));
                // Pydantic checks the key, then the value, and reports both.
                let key = match lax::int(&k) {
                    Some(i) => i.to_string(),
                    None => {
                        loc.push(LocItem::Key("[key]".into()));
                        self.fail(messages::int_parsing(Value::String(k.clone())), loc);
                        loc.pop();
                        k
                    }
                };
                let v = self.check(values, v, loc, depth + 1);
                loc.pop();
                out.insert(key, v);
            }
            return Value::Object(out);
        }
        for (k, slot) in map.iter_mut() {
            if is_property(k) {
                continue;
            }
            loc.push(LocItem::Key(Cow::Owned(k.clone())));
            let id = match shape.patterns.iter().find(|(re, _)| re.is_match(k)) {
                Some((_, id)) => Some(*id),
                None => match shape.additional {
                    Additional::Forbidden => {
                        // The body is refused: what stays in the map does not matter.
                        self.fail(messages::extra_forbidden(slot.clone()), loc);
                        None
                    }
                    Additional::Schema(extra) => Some(*extra),
                    Additional::Allowed => None,
                },
            };
            if let Some(id) = id {
                let v = std::mem::take(slot);
                *slot = self.check(id, v, loc, depth + 1);
            }
            loc.pop();
        }
        Value::Object(map)
    }

    #[allow(clippy::too_many_arguments)]
    fn array(
        &mut self,
        prefix: &[NodeId],
        items: Option<NodeId>,
        min: Option<u64>,
        max: Option<u64>,
        shape: ArrayKind,
        value: Value,
        loc: &mut Vec<LocItem>,
        depth: usize,
    ) -> Value {
        let value = match value {
            Value::String(_) if self.mode != Mode::Json => Value::Array(vec![value]),
            v => v,
        };
        let Value::Array(mut list) = value else {
            let error = match shape {
                ArrayKind::Set => messages::set_type(value.clone()),
                ArrayKind::List | ArrayKind::Tuple => messages::list_type(value.clone()),
            };
            self.fail(error, loc);
            return value;
        };
        // A tuple too short: each missing item is `missing` at its index.
        if shape == ArrayKind::Tuple && list.len() < prefix.len() {
            self.items(prefix, items, &mut list, loc, depth);
            let input = Value::Array(list);
            for i in input.as_array().map_or(0, Vec::len)..prefix.len() {
                loc.push(LocItem::Index(i));
                let mut missing = ValidationError::missing();
                missing.input = input.clone();
                self.fail(missing, loc);
                loc.pop();
            }
            return Value::Null;
        }
        // The length is judged on the list as given, and reported after its items.
        let n = list.len() as u64;
        if constraints::length_admits(n, min, max) {
            self.items(prefix, items, &mut list, loc, depth);
            return Value::Array(list);
        }
        // The error shows the list as given: copied first, unless checking its items
        // cannot rewrite them (the body is refused either way).
        let kept = (!prefix.is_empty() || items.is_some_and(|id| self.may_rewrite(id)))
            .then(|| list.clone());
        self.items(prefix, items, &mut list, loc, depth);
        let input = Value::Array(kept.unwrap_or(list));
        if let Err(mut e) = constraints::check_length(Measured::List, n, min, max, || input) {
            let name = match shape {
                ArrayKind::List => None,
                ArrayKind::Set => Some("Set"),
                ArrayKind::Tuple => Some("Tuple"),
            };
            if let Some(name) = name {
                let ctx = e.ctx.take().unwrap_or_default();
                let bound = |k: &str| ctx.get(k).and_then(Value::as_u64);
                let actual = bound("actual_length").unwrap_or(n);
                *e = match (bound("min_length"), bound("max_length")) {
                    (Some(m), _) => messages::too_short_of(name, e.input.clone(), m, actual),
                    (_, Some(m)) => messages::too_long_of(name, e.input.clone(), m, actual),
                    _ => *e,
                };
            }
            self.fail(*e, loc);
        }
        Value::Null
    }

    /// Check a list's items in place.
    fn items(
        &mut self,
        prefix: &[NodeId],
        items: Option<NodeId>,
        list: &mut [Value],
        loc: &mut Vec<LocItem>,
        depth: usize,
    ) {
        for (i, slot) in list.iter_mut().enumerate() {
            if let Some(sub) = prefix.get(i).copied().or(items) {
                loc.push(LocItem::Index(i));
                let v = std::mem::take(slot);
                *slot = self.check(sub, v, loc, depth + 1);
                loc.pop();
            }
        }
    }

    /// Whether checking a value against `id` may hand back something other than the
    /// value (a lax coercion, a parsed format); `false` only where it surely cannot.
    fn may_rewrite(&self, id: NodeId) -> bool {
        let node = self.compiled.resolve(id);
        !node.all_of.is_empty()
            || match &node.kind {
                Kind::Any => false,
                Kind::Typed {
                    ty: Type::String { format, .. },
                    ..
                } => format.is_some_and(|f| f.reads_values()),
                _ => true,
            }
    }

    fn string(
        &mut self,
        min: Option<u64>,
        max: Option<u64>,
        pattern: &Option<(Pattern, String)>,
        format: Option<super::formats::Format>,
        value: Value,
        loc: &mut [LocItem],
    ) -> Value {
        // UUIDs, datetimes and the like read any value (a number is a timestamp) and
        // are rewritten in the form serde reads; their errors are their own.
        if let Some(f) = format.filter(|f| f.reads_values()) {
            let read = f.read(&value).and_then(|out| match &value {
                Value::String(text) => {
                    check_text(text, min, max, borrowed(pattern), || value.clone()).map(|()| out)
                }
                _ => Ok(out),
            });
            return match read {
                Ok(out) => out,
                Err(e) => {
                    self.fail(*e, loc);
                    value
                }
            };
        }
        let Value::String(text) = &value else {
            self.fail(messages::string_type(value.clone()), loc);
            return value;
        };
        let checked = check_text(text, min, max, borrowed(pattern), || value.clone())
            .and_then(|()| format.map_or(Ok(()), |f| f.check(text, || value.clone())));
        if let Err(e) = checked {
            self.fail(*e, loc);
        }
        value
    }

    fn integer(&mut self, bounds: &Bounds, value: Value, loc: &mut [LocItem]) -> Value {
        let parsed: Result<i128, ValidationError> = match &value {
            Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => Ok(i.into()),
                (_, Some(u), _) => Ok(u.into()),
                (_, _, Some(f)) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e38 => {
                    Ok(f as i128)
                }
                (_, _, Some(f)) if f.is_finite() => Err(messages::int_from_float(value.clone())),
                _ => Err(messages::int_parsing(value.clone())),
            },
            Value::String(text) => {
                lax::int(text).ok_or_else(|| messages::int_parsing(value.clone()))
            }
            Value::Bool(b) if self.mode == Mode::Json => Ok(i128::from(*b)),
            _ => Err(messages::int_type(value.clone())),
        };
        let i = match parsed {
            Ok(i) => i,
            Err(e) => {
                self.fail(e, loc);
                return value;
            }
        };
        if let Err(e) = bounds.check(Num::int(i), || value.clone()) {
            self.fail(*e, loc);
            return value;
        }
        match (i64::try_from(i), u64::try_from(i)) {
            (Ok(v), _) => Value::Number(v.into()),
            (_, Ok(v)) => Value::Number(v.into()),
            _ => value,
        }
    }

    fn number(&mut self, bounds: &Bounds, value: Value, loc: &mut [LocItem]) -> Value {
        let parsed = match &value {
            Value::Number(n) => n.as_f64(),
            Value::String(text) => lax::float(text),
            Value::Bool(b) if self.mode == Mode::Json => Some(f64::from(u8::from(*b))),
            _ => None,
        };
        let Some(f) = parsed else {
            let e = if value.is_string() {
                messages::float_parsing(value.clone())
            } else {
                messages::float_type(value.clone())
            };
            self.fail(e, loc);
            return value;
        };
        if let Err(e) = bounds.check(Num::float(f), || value.clone()) {
            self.fail(*e, loc);
            return value;
        }
        match (&value, Number::from_f64(f)) {
            (Value::Number(_), _) => value,
            (_, Some(n)) => Value::Number(n),
            // inf / nan: pydantic reads them, but no JSON number can carry them to
            // the handler's type; refused at the field, in pydantic's words for a
            // float that must be finite.
            (_, None) => {
                self.fail(
                    ValidationError::new(
                        "finite_number",
                        "Input should be a finite number",
                        value.clone(),
                    ),
                    loc,
                );
                value
            }
        }
    }

    fn boolean(&mut self, value: Value, loc: &mut [LocItem]) -> Value {
        let parsed = match &value {
            Value::Bool(b) => Ok(*b),
            Value::Number(n) => match n.as_f64() {
                Some(0.0) => Ok(false),
                Some(1.0) => Ok(true),
                _ => Err(messages::bool_parsing(value.clone())),
            },
            Value::String(text) => {
                lax::boolean(text).ok_or_else(|| messages::bool_parsing(value.clone()))
            }
            _ => Err(messages::bool_type(value.clone())),
        };
        match parsed {
            Ok(b) => Value::Bool(b),
            Err(e) => {
                self.fail(e, loc);
                value
            }
        }
    }

    fn enumeration(
        &mut self,
        choices: &[Value],
        literal: bool,
        value: Value,
        loc: &mut [LocItem],
    ) -> Value {
        if choices.contains(&value) {
            return value;
        }
        let shown: Vec<String> = choices
            .iter()
            .map(|c| match c {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let error = if literal {
            messages::literal_error(value.clone(), &shown)
        } else {
            messages::enumeration(value.clone(), &shown)
        };
        self.fail(error, loc);
        value
    }

    fn constant(&mut self, expected: &Value, value: Value, loc: &mut [LocItem]) -> Value {
        if *expected != value {
            let shown = match expected {
                Value::String(s) => format!("'{s}'"),
                other => other.to_string(),
            };
            self.fail(
                ValidationError::new(
                    "literal_error",
                    format!("Input should be {shown}"),
                    value.clone(),
                )
                .with_ctx(serde_json::json!({ "expected": shown })),
                loc,
            );
        }
        value
    }

    /// `anyOf`/`oneOf`: `Option<T>` (one branch plus null) is checked as `T`, like
    /// pydantic's `Optional`. A serde-tagged enum picks its branch by the tag. Other
    /// unions take the first branch that passes; when none does, every branch's errors
    /// are reported with the branch's name in `loc`, as pydantic does.
    fn union(
        &mut self,
        u: &'static Union,
        value: Value,
        loc: &mut Vec<LocItem>,
        depth: usize,
    ) -> Value {
        if value.is_null() && u.nullable {
            return Value::Null;
        }
        if u.branches.len() == 1 {
            return self.check(u.branches[0].1, value, loc, depth + 1);
        }
        if let Some((tag, tags)) = &u.tag {
            let found = value.get(tag).cloned();
            let expected = tags
                .iter()
                .map(|(t, _)| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(", ");
            return match found {
                Some(Value::String(t)) => match tags.iter().find(|(name, _)| *name == t) {
                    Some((_, branch)) => self.check(*branch, value, loc, depth + 1),
                    None => {
                        self.fail(
                            ValidationError::new(
                                "union_tag_invalid",
                                format!("Input tag '{t}' found using '{tag}' does not match any of the expected tags: {expected}"),
                                value.clone(),
                            )
                            .with_ctx(serde_json::json!({"discriminator": format!("'{tag}'"), "tag": t, "expected_tags": expected})),
                            loc,
                        );
                        value
                    }
                },
                _ => {
                    self.fail(
                        ValidationError::new(
                            "union_tag_not_found",
                            format!("Unable to extract tag using discriminator '{tag}'"),
                            value.clone(),
                        )
                        .with_ctx(serde_json::json!({"discriminator": format!("'{tag}'")})),
                        loc,
                    );
                    value
                }
            };
        }
        let mut all = Vec::new();
        for (name, branch) in &u.branches {
            let mut sub = Validator::new(self.compiled, self.mode, self.room);
            loc.push(LocItem::Key(Cow::Borrowed(name.as_str())));
            let out = sub.check(*branch, value.clone(), loc, depth + 1);
            loc.pop();
            if sub.errors.is_empty() {
                return out;
            }
            all.extend(sub.errors);
        }
        let keep = (self.room + 1).saturating_sub(self.errors.len());
        self.errors.extend(all.into_iter().take(keep));
        value
    }
}

/// A compiled pattern and its source, borrowed.
fn borrowed(pattern: &Option<(Pattern, String)>) -> Option<(&regex::Regex, &str)> {
    pattern
        .as_ref()
        .map(|(re, source)| (&**re, source.as_str()))
}

/// Whether a string keeps its length and pattern: [`check_text`] without the error.
pub(crate) fn text_admits(
    text: &str,
    min: Option<u64>,
    max: Option<u64>,
    pattern: &Option<(Pattern, String)>,
) -> bool {
    ((min.is_none() && max.is_none())
        || constraints::length_admits(text.chars().count() as u64, min, max))
        && pattern.as_ref().is_none_or(|(re, _)| re.is_match(text))
}

/// The length and pattern checks of a string, in pydantic's order.
pub(crate) fn check_text(
    text: &str,
    min: Option<u64>,
    max: Option<u64>,
    pattern: Option<(&regex::Regex, &str)>,
    input: impl Fn() -> Value,
) -> Check {
    if min.is_some() || max.is_some() {
        let n = text.chars().count() as u64;
        constraints::check_length(Measured::Text, n, min, max, &input)?;
    }
    if let Some((re, source)) = pattern {
        constraints::check_pattern(re, source, text, &input)?;
    }
    Ok(())
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn body() -> Vec<LocItem> {
        vec![LocItem::Key("body".into())]
    }

    fn errors(root: &'static Compiled, value: Value) -> Value {
        let errs = root.validate(value, Mode::Json, &body(), 100).unwrap_err();
        serde_json::to_value(errs).unwrap()
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        description: Option<String>,
        price: f64,
        tax: Option<f64>,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    #[serde(deny_unknown_fields)]
    struct Order {
        id: u8,
        items: Vec<Item>,
        first: Option<Item>,
        kind: Kind,
        #[serde(default)]
        notes: Vec<String>,
        scores: HashMap<String, i32>,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Retail,
        Bulk,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    #[serde(tag = "t")]
    enum Shape {
        Circle { r: f64 },
        Square { side: f64 },
    }

    #[test]
    fn a_constraint_nothing_enforces_is_refused() {
        #[derive(serde::Deserialize, schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Tagged {
            #[schemars(extend("minProperties" = 1))]
            labels: HashMap<String, String>,
        }
        let err = compiled_of::<Tagged>().unwrap_err();
        assert!(
            err.contains("declares `minProperties`, which hasten does not enforce"),
            "{err}"
        );
    }

    #[test]
    fn missing_fields_carry_the_whole_object() {
        let root = compiled_of::<Item>().unwrap();
        assert_eq!(
            errors(root, json!({"name": "Foo"})),
            json!([{"type":"missing","loc":["body","price"],"msg":"Field required","input":{"name":"Foo"}}])
        );
    }

    #[test]
    fn lax_coercions_produce_a_deserialisable_value() {
        let root = compiled_of::<Item>().unwrap();
        let v = root
            .validate(
                json!({"name": "Foo", "price": "50.5", "tax": 3}),
                Mode::Json,
                &body(),
                100,
            )
            .unwrap();
        let item: Item = serde_json::from_value(v).unwrap();
        assert_eq!(item.price, 50.5);
        assert_eq!(item.tax, Some(3.0));
    }

    #[test]
    fn nested_errors_have_full_locations_in_field_order() {
        let root = compiled_of::<Order>().unwrap();
        let got = errors(
            root,
            json!({"id": 300, "items": [{"name": "a", "price": 1}, {"price": "x"}], "first": 5,
                   "kind": "retial", "scores": {"a": 1.5}, "extra": true}),
        );
        let locs: Vec<&Value> = got.as_array().unwrap().iter().map(|e| &e["loc"]).collect();
        assert_eq!(
            locs,
            vec![
                &json!(["body", "id"]),
                &json!(["body", "items", 1, "name"]),
                &json!(["body", "items", 1, "price"]),
                &json!(["body", "first"]),
                &json!(["body", "kind"]),
                &json!(["body", "scores", "a"]),
                &json!(["body", "extra"]),
            ]
        );
        let types: Vec<&Value> = got.as_array().unwrap().iter().map(|e| &e["type"]).collect();
        assert_eq!(
            types,
            vec![
                "less_than_equal",
                "missing",
                "float_parsing",
                "model_attributes_type",
                "enum",
                "int_from_float",
                "extra_forbidden"
            ]
        );
        assert_eq!(got[0]["ctx"], json!({"le": 255}));
        assert_eq!(got[4]["msg"], "Input should be 'retail' or 'bulk'");
    }

    #[test]
    fn wrong_container_types() {
        let root = compiled_of::<Order>().unwrap();
        let got = errors(
            root,
            json!({"id": 1, "items": "nope", "kind": "bulk", "scores": [], "notes": null}),
        );
        let types: Vec<&Value> = got.as_array().unwrap().iter().map(|e| &e["type"]).collect();
        assert_eq!(types, vec!["list_type", "list_type", "dict_type"]);
    }

    #[test]
    fn non_object_body_is_model_attributes_type() {
        let root = compiled_of::<Item>().unwrap();
        assert_eq!(
            errors(root, json!([1, 2])),
            json!([{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[1,2]}])
        );
    }

    #[test]
    fn tagged_enums_use_the_tag() {
        let root = compiled_of::<Shape>().unwrap();
        assert!(root
            .validate(json!({"t": "Circle", "r": "2"}), Mode::Json, &body(), 100)
            .is_ok());
        let got = errors(root, json!({"t": "Square"}));
        assert_eq!(got[0]["loc"], json!(["body", "side"]));
        let got = errors(root, json!({"t": "Hexagon"}));
        assert_eq!(got[0]["type"], "union_tag_invalid");
        let got = errors(root, json!({"r": 1}));
        assert_eq!(got[0]["type"], "union_tag_not_found");
    }

    #[cfg(all(feature = "uuid", feature = "jiff"))]
    #[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
    struct Event {
        id: uuid::Uuid,
        at: jiff::Timestamp,
        local: jiff::civil::DateTime,
        day: jiff::civil::Date,
        doors: jiff::civil::Time,
        lasts: jiff::SignedDuration,
        ends: Option<jiff::Timestamp>,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Tree {
        #[schemars(length(min = 1))]
        name: String,
        child: Option<Box<Tree>>,
    }

    /// A type that contains itself (schemars writes `{"$ref": "#"}`) has its
    /// constraints enforced at every level, on both paths.
    #[test]
    fn a_type_that_contains_itself_is_checked_at_every_level() {
        let root = compiled_of::<Tree>().unwrap();
        let bad = json!({"name": "x", "child": {"name": "y", "child": {"name": ""}}});
        let bytes = serde_json::to_vec(&bad).unwrap();
        let fast = super::super::checked::from_slice::<Tree>(&bytes, root);
        assert!(
            !matches!(fast, Ok((_, true))),
            "the fast path let it through"
        );
        let e = errors(root, bad);
        assert_eq!(e[0]["loc"], json!(["body", "child", "child", "name"]));
        assert_eq!(e[0]["type"], "string_too_short");
        let good = json!({"name": "x", "child": {"name": "y", "child": null}});
        let bytes = serde_json::to_vec(&good).unwrap();
        assert!(matches!(
            super::super::checked::from_slice::<Tree>(&bytes, root),
            Ok((_, true))
        ));
    }

    /// Deep bodies are left to the value walk, which stops checking at its own depth.
    #[test]
    fn deep_bodies_are_left_to_the_value_walk() {
        let root = compiled_of::<Tree>().unwrap();
        let body = [LocItem::Key("body".into())];
        let nested = |depth: usize| {
            let mut v = json!({"name": ""});
            for _ in 0..depth {
                v = json!({"name": "x", "child": v});
            }
            serde_json::to_vec(&v).unwrap()
        };
        let by_value = root
            .validate(
                serde_json::from_slice(&nested(3)).unwrap(),
                Mode::Json,
                &body,
                100,
            )
            .err();
        assert!(by_value.is_some());
        assert_eq!(root.stream_errors(&nested(3), &body, 100), by_value);
        assert!(root.stream_errors(&nested(40), &body, 100).is_none());
    }

    /// A count that serde reads from text, documented as an integer of at most 10.
    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    struct Lenient {
        #[serde(deserialize_with = "count_from_text")]
        #[schemars(with = "u32", range(max = 10))]
        n: u32,
        /// Text that serde also reads from a number or a boolean.
        #[serde(default, deserialize_with = "text_from_anything")]
        #[schemars(with = "String")]
        label: String,
    }

    fn text_from_anything<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(<Value as serde::Deserialize>::deserialize(d)?.to_string())
    }

    fn count_from_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        text.trim().parse().map_err(serde::de::Error::custom)
    }

    /// The fast path holds values to what the schema says, whatever serde would read:
    /// text that is no integer, an integer out of bounds, a number or a boolean where
    /// the schema says text, all go to the slow path.
    #[test]
    fn the_fast_path_keeps_the_schema_whatever_serde_reads() {
        let root = compiled_of::<Lenient>().unwrap();
        let fast = |body: &str| super::super::checked::from_slice::<Lenient>(body.as_bytes(), root);
        assert_eq!(fast(r#"{"n": "7"}"#).unwrap().0.n, 7);
        assert!(
            !matches!(fast(r#"{"n": "50"}"#), Ok((_, true))),
            "50 breaks max 10"
        );
        assert!(!matches!(fast(r#"{"n": "many"}"#), Ok((_, true))));
        let e = errors(root, json!({"n": "50"}));
        assert_eq!(e[0]["type"], "less_than_equal");
        let e = errors(root, json!({"n": "many"}));
        assert_eq!(e[0]["type"], "int_parsing");
        // Text given a number or a boolean: pydantic refuses both.
        let (read, held) = fast(r#"{"n": "1", "label": "x"}"#).unwrap();
        assert!(held);
        assert_eq!(read.label, r#""x""#);
        for label in ["5", "true"] {
            let body = format!(r#"{{"n": "1", "label": {label}}}"#);
            assert!(!matches!(fast(&body), Ok((_, true))), "{body}");
        }
        let e = errors(root, json!({"n": "1", "label": 5}));
        assert_eq!(e[0]["type"], "string_type");
    }

    /// Whatever pydantic accepts is rewritten into text the Rust types' serde reads, so
    /// building the value after validation cannot fail; and text already in that form
    /// takes the fast path, anything else the slow one.
    #[cfg(all(feature = "uuid", feature = "jiff"))]
    #[test]
    fn uuids_and_datetimes_are_rewritten_for_serde() {
        let root = compiled_of::<Event>().unwrap();
        assert!(root.checks && !root.checks_in_unions);
        let canonical = json!({"id": "12345678-1234-1234-1234-1234567890ab",
            "at": "2032-04-23T10:20:30.5+01:00", "local": "2032-04-23T10:20:30",
            "day": "2032-04-23", "doors": "10:20:30.123456", "lasts": "-PT90.5S", "ends": null});
        let bytes = serde_json::to_vec(&canonical).unwrap();
        let (fast, held) = super::super::checked::from_slice::<Event>(&bytes, root).unwrap();
        assert!(held, "canonical text takes the fast path");
        let slow = root.validate(canonical, Mode::Json, &body(), 100).unwrap();
        assert_eq!(serde_json::from_value::<Event>(slow).unwrap(), fast);

        let lax = [
            json!({"id": "{12345678-1234-1234-1234-1234567890AB}", "at": "2032-04-23 10:20",
                   "local": "2032-04-23T10:20:30Z", "day": "2032-04-23T00:00:00+05:00",
                   "doors": "10:20:30.1234567+01:00", "lasts": "P1DT2H", "ends": 1700000000}),
            json!({"id": "urn:uuid:12345678-1234-1234-1234-1234567890ab", "at": 1700000000123_i64,
                   "local": "2032-04-23", "day": 1699920000, "doors": 3600.5, "lasts": 3600.25,
                   "ends": "2032-04-23"}),
            json!({"id": "123456781234123412341234567890ab", "at": "1700000000.5",
                   "local": -1, "day": "1699920000000", "doors": "10:20", "lasts": true,
                   "ends": "2032-04-23T10:20:30-00:00"}),
        ];
        for input in lax {
            let bytes = serde_json::to_vec(&input).unwrap();
            if let Ok((_, held)) = super::super::checked::from_slice::<Event>(&bytes, root) {
                assert!(!held, "{input}: lax input must be rewritten first");
            }
            let coerced = root
                .validate(input.clone(), Mode::Json, &body(), 100)
                .unwrap();
            serde_json::from_value::<Event>(coerced.clone())
                .unwrap_or_else(|e| panic!("{input} → {coerced}: {e}"));
        }
        let e = root
            .validate(
                json!({"id": 1, "at": "x", "local": null, "day": "2032-04-23T01:00:00",
                             "doors": "x", "lasts": []}),
                Mode::Form,
                &body(),
                100,
            )
            .unwrap_err();
        let types: Vec<&str> = e.iter().map(|e| e.kind.as_ref()).collect();
        assert_eq!(
            types,
            [
                "uuid_type",
                "datetime_from_date_parsing",
                "datetime_type",
                "date_from_datetime_inexact",
                "time_parsing",
                "time_delta_type",
            ]
        );
    }

    #[test]
    fn form_mode_reads_strings() {
        #[derive(serde::Deserialize, schemars::JsonSchema)]
        #[allow(dead_code)]
        struct F {
            n: i32,
            on: bool,
            tags: Vec<String>,
            note: Option<String>,
        }
        let root = compiled_of::<F>().unwrap();
        let v = root
            .validate(
                json!({"n": "4", "on": "yes", "tags": "one", "note": ""}),
                Mode::Form,
                &body(),
                100,
            )
            .unwrap();
        assert_eq!(v, json!({"n": 4, "on": true, "tags": ["one"]}));
    }
}
