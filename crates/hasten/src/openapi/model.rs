//! The documentation model: what extractors, return types, routers and the app say
//! about an API, as typed values. The document is built from it (`openapi.rs`), never
//! the other way round.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::{json, Value};

use crate::extract::{ParamSpec, Source};

/// A JSON Schema for the documentation: generated in the document's shared generator
/// (so named types become `$ref`s into `components/schemas`), or given inline.
#[derive(Clone)]
pub enum SchemaDoc {
    /// The schema of a type, made by the shared generator.
    Of(fn(&mut SchemaGenerator) -> Schema),
    /// A literal schema.
    Inline(Value),
}

impl SchemaDoc {
    /// The schema of `T`.
    pub fn of<T: JsonSchema + ?Sized>() -> Self {
        SchemaDoc::Of(|g| g.subschema_for::<T>())
    }

    /// Render it with `generator`.
    pub fn render(&self, generator: &mut SchemaGenerator) -> Value {
        match self {
            // schemars writes "anything" as `true`; FastAPI documents it as `{}`.
            SchemaDoc::Of(f) => {
                let mut schema = f(generator);
                for t in generator.transforms_mut() {
                    t.transform(&mut schema);
                }
                match schema.to_value() {
                    Value::Bool(true) => json!({}),
                    v => v,
                }
            }
            SchemaDoc::Inline(v) => v.clone(),
        }
    }

    /// Render it on its own: named types under `$defs` of the returned root.
    pub fn standalone(&self) -> Value {
        let mut generator = SchemaGenerator::default();
        let mut root = self.render(&mut generator);
        let mut defs = generator.take_definitions(true);
        // A named type comes back as a reference: put its definition at the root.
        let target = root
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .map(str::to_owned);
        if let Some(def) = target.and_then(|name| defs.remove(&name)) {
            root = def;
        }
        if !defs.is_empty() {
            if let Value::Object(m) = &mut root {
                m.insert("$defs".to_owned(), Value::Object(defs));
            }
        }
        root
    }
}

impl std::fmt::Debug for SchemaDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SchemaDoc::Of(_) => f.write_str("SchemaDoc::Of(..)"),
            SchemaDoc::Inline(v) => write!(f, "SchemaDoc::Inline({v})"),
        }
    }
}

/// What a successful response looks like, from the handler's return type.
#[derive(Debug, Clone)]
pub struct ResponseDoc {
    /// The media type of its body; `None` for a response without a body.
    pub content_type: Option<&'static str>,
    /// The schema of its body.
    pub schema: SchemaDoc,
    /// A status the type always has (a [`Redirect`](crate::Redirect) is 307), if any.
    pub status: Option<u16>,
}

impl ResponseDoc {
    /// A JSON body of type `T`.
    pub fn json<T: JsonSchema + ?Sized>() -> Self {
        ResponseDoc {
            content_type: Some(crate::response::APPLICATION_JSON),
            schema: SchemaDoc::of::<T>(),
            status: None,
        }
    }

    /// A JSON body of unknown shape (`schema: {}`), FastAPI's default.
    pub fn any_json() -> Self {
        ResponseDoc {
            content_type: Some(crate::response::APPLICATION_JSON),
            schema: SchemaDoc::Inline(json!({})),
            status: None,
        }
    }

    pub(crate) fn typed(content_type: &'static str, schema: Value) -> Self {
        ResponseDoc {
            content_type: Some(content_type),
            schema: SchemaDoc::Inline(schema),
            status: None,
        }
    }
}

/// Contact information for the API (`info.contact`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Contact {
    /// The person or organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// An email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The API's license (`info.license`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct License {
    /// Its name (`"MIT"`).
    pub name: String,
    /// Its SPDX identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// A URL to its text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A tag's entry in the document's `tags`: FastAPI's `openapi_tags` item.
#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(rename = "externalDocs", skip_serializing_if = "Option::is_none")]
    external_docs: Option<ExternalDocs>,
}

/// A link to documentation elsewhere (`externalDocs`).
#[derive(Debug, Clone, Serialize)]
struct ExternalDocs {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    url: String,
}

impl Tag {
    /// A tag named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Tag {
            name: name.into(),
            description: None,
            external_docs: None,
        }
    }

    /// Its description (Markdown).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// A link to more documentation about it; `description` may be empty.
    pub fn external_docs(mut self, url: impl Into<String>, description: impl Into<String>) -> Self {
        let description: String = description.into();
        self.external_docs = Some(ExternalDocs {
            description: (!description.is_empty()).then_some(description),
            url: url.into(),
        });
        self
    }
}

/// A server the API is reachable at (`servers`).
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    /// Its URL, absolute or relative to the document (`/api/v1`).
    pub url: String,
    /// What it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One entry of an operation's `security`: a scheme, its definition and the scopes.
#[derive(Debug, Clone)]
pub struct SecurityRequirement {
    /// The scheme's name in `components/securitySchemes`.
    pub name: Cow<'static, str>,
    /// The scheme's definition (an OpenAPI Security Scheme Object).
    pub scheme: Value,
    /// The scopes required (OAuth2 only; empty otherwise).
    pub scopes: Vec<String>,
}

/// The documentation of one parameter, filled by [`FromRequest::describe`](crate::extract::FromRequest::describe).
#[derive(Debug, Clone)]
pub struct ParamDoc {
    /// The macro's spec (constraints, title, deprecation …).
    pub spec: &'static ParamSpec,
    /// Where the value comes from.
    pub source: Source,
    /// The name on the wire.
    pub name: Cow<'static, str>,
    /// Whether the parameter must be given.
    pub required: bool,
    /// JSON Schema of one value (constraints, title and nullability are added from
    /// the spec when the document is built).
    pub schema: Value,
    /// Whether it is an `Option` (documented as `anyOf [_, null]`).
    pub nullable: bool,
    /// Its title when it is not made from the wire name: a parameter model's field is
    /// titled after the field (`x_token` → "X Token"), as pydantic titles it.
    pub title: Option<String>,
    /// The named schemas `schema` refers to (`#/components/schemas/<name>`), added to
    /// the document's components.
    pub definitions: Vec<(String, Value)>,
    /// The dependency it comes from: empty for the operation's own parameters, else
    /// the position of each dependency on the way to it (set while describing). The
    /// document lists an operation's own parameters before its dependencies', as
    /// FastAPI does.
    pub dependency: Vec<u32>,
}

/// The documentation of a request body.
#[derive(Debug, Clone)]
pub struct BodyDoc {
    /// Accepted media types.
    pub content_types: Vec<&'static str>,
    /// Whether the body must be given.
    pub required: bool,
    /// JSON Schema of the body.
    pub schema: SchemaDoc,
    /// The name of the parameter that reads it: the title of a body schema that is not
    /// a named type's (`body: HashMap<…>` → "Body"), as FastAPI titles it.
    pub name: Option<&'static str>,
    /// A body of separate fields (FastAPI's `OAuth2PasswordRequestForm`, say): its schema
    /// is documented as a `Body_<operationId>` component, as FastAPI documents it.
    pub per_operation: bool,
    /// Checked when the app is built: the schema compiles into the validator that
    /// enforces it (every pattern is a valid regular expression).
    pub check: fn() -> Result<(), String>,
}

/// One body parameter embedded in the body's JSON object.
#[derive(Debug, Clone)]
pub struct EmbeddedDoc {
    /// Its field name in the object.
    pub name: Cow<'static, str>,
    /// Whether the field must be given.
    pub required: bool,
    /// Its schema.
    pub schema: SchemaDoc,
    /// Checked when the app is built, as [`BodyDoc::check`].
    pub check: fn() -> Result<(), String>,
}

/// A documented response besides the success one (a 404 with its model, say).
#[derive(Debug, Clone)]
pub struct ExtraResponse {
    /// The status.
    pub status: u16,
    /// What it means.
    pub description: String,
    /// The JSON Schema of its body, if it has one.
    pub schema: Option<SchemaDoc>,
}

/// Everything the extractors say about an operation's inputs.
#[derive(Debug, Default, Clone)]
pub struct OperationDoc {
    /// The names of the path parameters of the path the operation is served at.
    pub path_params: Vec<String>,
    /// Path, query, header and cookie parameters, in declaration order.
    pub params: Vec<ParamDoc>,
    /// The request body, if any.
    pub body: Option<BodyDoc>,
    /// Body parameters embedded in one JSON object (documented as `Body_<operationId>`).
    pub embedded: Vec<EmbeddedDoc>,
    /// The successful response, from the handler's return type.
    pub response: Option<ResponseDoc>,
    /// Security requirements, from the security schemes among its dependencies.
    pub security: Vec<SecurityRequirement>,
    /// Where describing is on its way through the dependencies: not part of the model.
    pub(crate) describer: Describer,
    /// What the app checks when it is built: not part of the document.
    pub(crate) checks: BuildChecks,
}

/// The state of describing an operation, as it goes through its dependencies.
#[derive(Debug, Default, Clone)]
pub(crate) struct Describer {
    /// The dependencies described so far, directly or through other dependencies.
    pub(crate) dependencies: Vec<std::any::TypeId>,
    /// Scopes required by the `#[security(scopes = …)]` parameters on the way from the
    /// operation to the dependency being described.
    pub(crate) scopes: Vec<&'static str>,
    /// How many dependencies each level on the way to the one being described has had
    /// so far.
    pub(crate) dependency_counts: Vec<u32>,
}

/// What the app checks about an operation when it is built.
#[derive(Debug, Default, Clone)]
pub(crate) struct BuildChecks {
    /// App state types the operation needs.
    pub(crate) required_state: Vec<(std::any::TypeId, &'static str)>,
}

impl OperationDoc {
    /// Whether the operation takes any input (then FastAPI documents a 422).
    pub fn takes_input(&self) -> bool {
        !self.params.is_empty() || self.body.is_some() || !self.embedded.is_empty()
    }

    /// Add a security requirement: scopes join those of an earlier requirement of the
    /// same scheme.
    pub fn require(&mut self, req: SecurityRequirement) {
        match self.security.iter_mut().find(|r| r.name == req.name) {
            Some(r) => {
                for s in req.scopes {
                    if !r.scopes.contains(&s) {
                        r.scopes.push(s);
                    }
                }
            }
            None => self.security.push(req),
        }
    }
}
