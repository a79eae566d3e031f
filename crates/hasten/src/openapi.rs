//! The OpenAPI 3.1 document, built once when the app is built from what each
//! operation's extractors, return type, routers and dependencies say about it — the same
//! code that does the extraction, so the document cannot drift from the behaviour.
//!
//! Schemas come from schemars 1 (JSON Schema 2020-12, which OpenAPI 3.1 uses as is).
//! Named types go to `components/schemas` and are referenced with `$ref`; two different
//! types with the same name get distinct, deterministic names (`Item`, `Item2`, in the
//! order the operations were added), never one merged entry.

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::extract::Source;
use crate::operation::Operation;

pub(crate) mod describe;
pub(crate) mod model;
mod style;

pub(crate) use describe::title_case;
pub use describe::DescribeResponse;
pub use model::{
    BodyDoc, Contact, EmbeddedDoc, ExtraResponse, License, OperationDoc, ParamDoc, ResponseDoc,
    SchemaDoc, SecurityRequirement, Server, Tag,
};
pub use style::DocStyle;

/// What goes into the document besides the operations: `info`, `servers`, `tags`.
#[derive(Debug, Clone)]
pub(crate) struct DocInfo {
    pub(crate) title: String,
    pub(crate) version: String,
    pub(crate) summary: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) terms_of_service: Option<String>,
    pub(crate) contact: Option<Contact>,
    pub(crate) license: Option<License>,
    pub(crate) servers: Vec<Server>,
    pub(crate) tags: Vec<Tag>,
    pub(crate) style: DocStyle,
    /// What the app answers for invalid input, when its validation handler replaces
    /// FastAPI's 422: the status, description, media type and schema documented.
    pub(crate) validation_response: Option<ValidationResponse>,
    /// The media type and schema of an `HttpError`'s body, when the app's error handler
    /// replaces FastAPI's `{"detail": …}`: what the documented 400 and 401 show.
    pub(crate) error_body: Option<(&'static str, SchemaDoc)>,
}

/// The documented answer to invalid input, when the app's validation handler replaces
/// the 422 `HTTPValidationError`.
#[derive(Debug, Clone)]
pub(crate) struct ValidationResponse {
    pub(crate) status: u16,
    pub(crate) description: String,
    pub(crate) content_type: &'static str,
    pub(crate) schema: SchemaDoc,
}

impl Default for DocInfo {
    fn default() -> Self {
        DocInfo {
            title: "hasten".to_owned(),
            version: "0.1.0".to_owned(),
            summary: None,
            description: None,
            terms_of_service: None,
            contact: None,
            license: None,
            servers: Vec::new(),
            tags: Vec::new(),
            style: DocStyle::default(),
            validation_response: None,
            error_body: None,
        }
    }
}

/// Gives every object property a title, as pydantic does (`full_name` → "Full Name").
#[derive(Debug, Clone)]
struct PropertyTitles;

impl schemars::transform::Transform for PropertyTitles {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(Value::Object(props)) = schema.get_mut("properties") {
            for (name, prop) in props.iter_mut() {
                if let Value::Object(p) = prop {
                    if !p.contains_key("title") && !is_reference(p) {
                        p.insert("title".into(), json!(title_case(name)));
                    }
                }
            }
        }
        schemars::transform::transform_subschemas(self, schema);
    }
}

/// Names formats as pydantic does: a civil (naive) time or date-time is `time` or
/// `date-time`, not RFC 3339's `partial-time` and `partial-date-time`; an address of
/// either IP version is `ipvanyaddress`; a URL has `minLength: 1`.
#[derive(Debug, Clone)]
struct PydanticFormats;

impl schemars::transform::Transform for PydanticFormats {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(Value::String(format)) = schema.get_mut("format") {
            match format.as_str() {
                "partial-time" => *format = "time".into(),
                "partial-date-time" => *format = "date-time".into(),
                "ip" => *format = "ipvanyaddress".into(),
                _ => {}
            }
        }
        // pydantic's URLs are never empty, and say so.
        if schema.get("format") == Some(&json!("uri")) && schema.get("minLength").is_none() {
            schema.insert("minLength".into(), json!(1));
        }
        schemars::transform::transform_subschemas(self, schema);
    }
}

/// The generator every schema of a document is made with.
fn generator() -> SchemaGenerator {
    schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .with_transform(PropertyTitles)
        .with_transform(PydanticFormats)
        .into_generator()
}

/// The schemas of FastAPI's validation error body.
fn validation_error_schemas() -> [(&'static str, Value); 2] {
    [
        (
            "HTTPValidationError",
            json!({
                "properties": {
                    "detail": {
                        "items": { "$ref": "#/components/schemas/ValidationError" },
                        "type": "array",
                        "title": "Detail"
                    }
                },
                "type": "object",
                "title": "HTTPValidationError"
            }),
        ),
        (
            "ValidationError",
            // One definition, the one `ProblemDetails` uses too.
            <crate::validation::ValidationError as JsonSchema>::json_schema(
                &mut SchemaGenerator::default(),
            )
            .to_value(),
        ),
    ]
}

/// The schema of one parameter: the type's, with the constraints, title, description
/// and example of its spec, wrapped in `anyOf [_, null]` when it is an `Option`. A named
/// enum is a component, referenced (as FastAPI documents it); the named schemas it
/// refers to are added to `components`.
fn param_schema(p: &ParamDoc, components: &mut Vec<(String, Value)>) -> Value {
    let spec = p.spec;
    components.extend(p.definitions.iter().cloned());
    let mut inner = p.schema.clone();
    to_component(&mut inner, components);
    if let Some(items) = inner.get_mut("items") {
        to_component(items, components);
    }
    if inner.get("$ref").is_some() {
        return finish_param_schema(p, inner);
    }
    let c = &spec.constraints;
    // On a list only the length constraints apply (to the list), as at runtime.
    if let Value::Object(m) = &mut inner {
        let is_array = m.get("type") == Some(&json!("array"));
        let (min_key, max_key) = if is_array {
            ("minItems", "maxItems")
        } else {
            ("minLength", "maxLength")
        };
        if let Some(n) = c.min_length {
            m.insert(min_key.into(), json!(n));
        }
        if let Some(n) = c.max_length {
            m.insert(max_key.into(), json!(n));
        }
        if is_array {
            return finish_param_schema(p, inner);
        }
        let num = |n: &crate::extract::Number| -> Value {
            match *n {
                crate::extract::Number::Int(i) => json!(i),
                crate::extract::Number::Float(f) => json!(f),
            }
        };
        for (key, bound) in [
            ("exclusiveMinimum", &c.gt),
            ("minimum", &c.ge),
            ("exclusiveMaximum", &c.lt),
            ("maximum", &c.le),
        ] {
            if let Some(n) = bound {
                m.insert(key.into(), num(n));
            }
        }
        if let Some(pat) = c.pattern {
            m.insert("pattern".into(), json!(pat));
        }
    }
    finish_param_schema(p, inner)
}

/// Nullability, title, description, default and example of a parameter's schema.
fn finish_param_schema(p: &ParamDoc, inner: Value) -> Value {
    let spec = p.spec;
    let mut schema = if p.nullable {
        json!({ "anyOf": [inner, { "type": "null" }] })
    } else {
        inner
    };
    if let Value::Object(m) = &mut schema {
        // pydantic gives no title to a field that is a reference (or a nullable one).
        let title = match (spec.title, &p.title) {
            (Some(t), _) => Some(t.to_owned()),
            _ if is_reference(m) => None,
            (None, Some(t)) => Some(t.clone()),
            (None, None) => Some(title_case(&p.name)),
        };
        if let Some(title) = title {
            m.insert("title".into(), json!(title));
        }
        if spec.deprecated {
            m.insert("deprecated".into(), json!(true));
        }
        if let Some(d) = spec.description {
            m.insert("description".into(), json!(d));
        }
        let default = match (spec.default_json, spec.default_doc) {
            (Some(d), _) => serde_json::from_str::<Value>(d).ok(),
            (None, Some(value)) => value(),
            (None, None) => None,
        };
        if let Some(d) = default {
            m.insert("default".into(), d);
        }
        if let Some(ex) = spec
            .example
            .and_then(|e| serde_json::from_str::<Value>(e).ok())
        {
            m.insert("examples".into(), json!([ex]));
        }
    }
    schema
}

/// pydantic's title of a parametrised generic model from its component key:
/// `Page_Item_` → `Page[Item]`, `Pair_int__str_` → `Pair[int, str]`; `None` for a key
/// of another shape.
fn generic_title(key: &str) -> Option<String> {
    let inner = key.strip_suffix('_')?;
    let (base, args) = inner.split_once('_')?;
    if base.is_empty() || args.is_empty() || args.starts_with('_') || args.ends_with('_') {
        return None;
    }
    Some(format!("{base}[{}]", args.replace("__", ", ")))
}

/// The style pass over every schema of the operations: parameters, bodies, responses.
fn restyle_operations(paths: &mut Map<String, Value>, style: DocStyle) {
    let contents = |v: &mut Value| {
        if let Some(Value::Object(content)) = v.get_mut("content") {
            for media in content.values_mut() {
                if let Some(schema) = media.get_mut("schema") {
                    style::schema(schema, style);
                }
            }
        }
    };
    for item in paths.values_mut() {
        let Value::Object(item) = item else { continue };
        for op in item.values_mut() {
            if let Some(Value::Array(params)) = op.get_mut("parameters") {
                for p in params {
                    if let Some(schema) = p.get_mut("schema") {
                        style::schema(schema, style);
                    }
                }
            }
            if let Some(body) = op.get_mut("requestBody") {
                contents(body);
            }
            if let Some(Value::Object(responses)) = op.get_mut("responses") {
                for r in responses.values_mut() {
                    contents(r);
                }
            }
        }
    }
}

/// A named enum's schema (one with a `title`) moved to the components, a reference
/// left in its place.
fn to_component(schema: &mut Value, components: &mut Vec<(String, Value)>) {
    let named_enum = schema.get("enum").is_some() && schema.get("$ref").is_none();
    if let (true, Some(Value::String(name))) = (named_enum, schema.get("title")) {
        let name = name.clone();
        let reference = json!({ "$ref": format!("#/components/schemas/{name}") });
        components.push((name, std::mem::replace(schema, reference)));
    }
}

/// Whether a schema is a `$ref`, or `anyOf` a `$ref` and `null`.
fn is_reference(m: &Map<String, Value>) -> bool {
    if m.contains_key("$ref") {
        return true;
    }
    match m.get("anyOf").and_then(Value::as_array) {
        Some(branches) if branches.len() == 2 => {
            branches.iter().any(|b| b.get("$ref").is_some())
                && branches.iter().any(|b| b == &json!({ "type": "null" }))
        }
        _ => false,
    }
}

fn response_entry(
    description: &str,
    content_type: Option<&str>,
    schema: Option<Value>,
) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("description".into(), json!(description));
    if let (Some(ct), Some(schema)) = (content_type, schema) {
        // Documents name the media type without parameters, as FastAPI does.
        let media = ct.split(';').next().unwrap_or(ct).trim();
        r.insert("content".into(), json!({ media: { "schema": schema } }));
    }
    r
}

/// The standard reason phrase FastAPI uses as a response description.
fn status_description(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(crate::error::reason_phrase)
        .unwrap_or("Additional Response")
        .to_owned()
}

/// The document for `operations`.
pub(crate) fn document(operations: &[&Operation], info: &DocInfo) -> Value {
    let mut builder = Builder::new(info);
    let mut paths: Map<String, Value> = Map::new();
    for op in operations {
        if !op.meta().include_in_schema {
            continue;
        }
        // `{p:path}` is a routing detail: the document names the parameter `{p}`.
        let path = op.path().replace(":path}", "}");
        for method in op.meta().methods {
            let o = builder.operation(op, method);
            let item = paths
                .entry(path.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(item) = item {
                item.insert(method.to_ascii_lowercase(), Value::Object(o));
            }
        }
    }
    let components = builder.components();
    restyle_operations(&mut paths, info.style);

    let mut root = Map::new();
    root.insert("openapi".into(), json!("3.1.0"));
    root.insert("info".into(), info_object(info));
    if !info.servers.is_empty() {
        root.insert("servers".into(), json!(info.servers));
    }
    root.insert("paths".into(), Value::Object(paths));
    if !components.is_empty() {
        root.insert("components".into(), Value::Object(components));
    }
    if !info.tags.is_empty() {
        root.insert("tags".into(), json!(info.tags));
    }
    Value::Object(root)
}

/// The document's `info`.
fn info_object(info: &DocInfo) -> Value {
    let mut o = Map::new();
    o.insert("title".into(), json!(info.title));
    if let Some(s) = &info.summary {
        o.insert("summary".into(), json!(s));
    }
    if let Some(d) = &info.description {
        o.insert("description".into(), json!(d));
    }
    if let Some(t) = &info.terms_of_service {
        o.insert("termsOfService".into(), json!(t));
    }
    if let Some(c) = &info.contact {
        o.insert("contact".into(), json!(c));
    }
    if let Some(l) = &info.license {
        o.insert("license".into(), json!(l));
    }
    o.insert("version".into(), json!(info.version));
    Value::Object(o)
}

/// `{"detail": "…"}`: the body of the 400 and 401 the complete style documents.
fn detail_schema() -> Value {
    json!({
        "type": "object",
        "properties": { "detail": { "type": "string", "title": "Detail" } },
        "required": ["detail"]
    })
}

/// A request body object: `content` under `media`, and `required`.
fn request_body(content: Value, required: bool) -> Value {
    let mut rb = Map::new();
    rb.insert("content".into(), content);
    if required {
        rb.insert("required".into(), json!(true));
    }
    Value::Object(rb)
}

/// What building the document gathers on its way through the operations: the schema
/// generator (named types, in the order first used), the components that are not a
/// type's (`Body_<operationId>`, parameter enums) and the security schemes.
struct Builder<'a> {
    info: &'a DocInfo,
    gen: SchemaGenerator,
    extra_components: Vec<(String, Value)>,
    schemes: BTreeMap<String, Value>,
    uses_validation_error: bool,
}

impl<'a> Builder<'a> {
    fn new(info: &'a DocInfo) -> Self {
        Builder {
            info,
            gen: generator(),
            extra_components: Vec::new(),
            schemes: BTreeMap::new(),
            uses_validation_error: false,
        }
    }

    /// One operation object.
    fn operation(&mut self, op: &Operation, method: &str) -> Map<String, Value> {
        let meta = op.meta();
        let doc = op.doc();
        let mut o = Map::new();
        let tags: Vec<&str> = op.tags().collect();
        if !tags.is_empty() {
            o.insert("tags".into(), json!(tags));
        }
        o.insert("summary".into(), json!(meta.summary()));
        if let Some(d) = meta.description() {
            o.insert("description".into(), json!(d));
        }
        let operation_id = op.operation_id(method);
        o.insert("operationId".into(), json!(operation_id));
        if meta.deprecated {
            o.insert("deprecated".into(), json!(true));
        }
        let params = self.parameters(doc);
        if !params.is_empty() {
            o.insert("parameters".into(), Value::Array(params));
        }
        let form = self.form_body(doc, &operation_id);
        let embedded = self.embedded_body(doc, &operation_id);
        let json = doc.body.as_ref().map(|b| self.json_body(b, &operation_id));
        let has_body = form.is_some() || embedded.is_some() || json.is_some();
        for body in [form, embedded, json].into_iter().flatten() {
            o.insert("requestBody".into(), body);
        }
        let responses = self.responses(op, &operation_id, has_body);
        o.insert("responses".into(), Value::Object(responses));
        if !doc.security.is_empty() {
            let mut reqs = Vec::new();
            for s in &doc.security {
                self.schemes.insert(s.name.to_string(), s.scheme.clone());
                reqs.push(json!({ s.name.as_ref(): s.scopes }));
            }
            o.insert("security".into(), Value::Array(reqs));
        }
        o
    }

    /// Path, query, header and cookie parameters, each (name, location) once: by
    /// location as FastAPI lists them, and within one the operation's own, then each
    /// dependency's (its own before those of the dependencies it uses).
    fn parameters(&mut self, doc: &OperationDoc) -> Vec<Value> {
        let rank = |p: &ParamDoc| match p.source {
            Source::Path => 0,
            Source::Query => 1,
            Source::Header => 2,
            Source::Cookie => 3,
            Source::Body | Source::Form => 4,
        };
        let mut ordered: Vec<&ParamDoc> = doc.params.iter().collect();
        ordered.sort_by(|a, b| (rank(a), &a.dependency).cmp(&(rank(b), &b.dependency)));
        let mut seen: Vec<(&str, Source)> = Vec::new();
        let mut params = Vec::new();
        for p in ordered {
            if rank(p) == 4
                || !p.spec.include_in_schema
                || seen.iter().any(|(n, s)| *n == p.name && *s == p.source)
            {
                continue;
            }
            seen.push((&p.name, p.source));
            params.push(self.parameter(p));
        }
        params
    }

    /// One parameter object.
    fn parameter(&mut self, p: &ParamDoc) -> Value {
        let location = match p.source {
            Source::Path => "path",
            Source::Query => "query",
            Source::Header => "header",
            _ => "cookie",
        };
        let mut entry = Map::new();
        entry.insert("name".into(), json!(p.name));
        entry.insert("in".into(), json!(location));
        entry.insert(
            "required".into(),
            json!(p.required || p.source == Source::Path),
        );
        if p.spec.deprecated {
            entry.insert("deprecated".into(), json!(true));
        }
        let schema = param_schema(p, &mut self.extra_components);
        // A parameter model's field is described by its doc comment, in the schema and
        // on the parameter, as FastAPI describes it.
        let description = p
            .spec
            .description
            .map(Value::from)
            .or_else(|| schema.get("description").cloned());
        entry.insert("schema".into(), schema);
        if let Some(d) = description {
            entry.insert("description".into(), d);
        }
        Value::Object(entry)
    }

    /// `#[form]` fields and uploads: a form body (multipart when a file is among them),
    /// a `Body_<operationId>` component as in FastAPI.
    fn form_body(&mut self, doc: &OperationDoc, operation_id: &str) -> Option<Value> {
        let form: Vec<&ParamDoc> = doc
            .params
            .iter()
            .filter(|p| p.source == Source::Form && p.spec.include_in_schema)
            .collect();
        if doc.body.is_some() || form.is_empty() {
            return None;
        }
        let binary = |s: &Value| s.get("contentMediaType").is_some();
        let multipart = form
            .iter()
            .any(|p| binary(&p.schema) || p.schema.get("items").is_some_and(binary));
        let mut properties = Map::new();
        let mut required = Vec::new();
        for p in &form {
            properties.insert(
                p.name.to_string(),
                param_schema(p, &mut self.extra_components),
            );
            if p.required && !required.contains(&p.name.as_ref()) {
                required.push(p.name.as_ref());
            }
        }
        let name = format!("Body_{operation_id}");
        let mut component = json!({ "properties": properties, "type": "object" });
        if !required.is_empty() {
            component["required"] = json!(required);
        }
        component["title"] = json!(name);
        self.extra_components.push((name.clone(), component));
        let media = if multipart {
            "multipart/form-data"
        } else {
            crate::response::FORM_URLENCODED
        };
        let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
        Some(request_body(
            json!({ media: { "schema": schema } }),
            !required.is_empty(),
        ))
    }

    /// Several body parameters (or one embedded): one JSON object, documented as
    /// FastAPI documents it, a `Body_<operationId>` component.
    fn embedded_body(&mut self, doc: &OperationDoc, operation_id: &str) -> Option<Value> {
        let embedded_params: Vec<&ParamDoc> = doc
            .params
            .iter()
            .filter(|p| p.source == Source::Body && p.spec.embed)
            .collect();
        if doc.embedded.is_empty() && embedded_params.is_empty() {
            return None;
        }
        let mut properties = Map::new();
        let mut required = Vec::new();
        for e in &doc.embedded {
            let mut schema = e.schema.render(&mut self.gen);
            if schema.get("$ref").is_none() {
                if let Value::Object(m) = &mut schema {
                    m.entry("title")
                        .or_insert_with(|| json!(title_case(&e.name)));
                }
            }
            properties.insert(e.name.to_string(), schema);
            if e.required {
                required.push(e.name.to_string());
            }
        }
        for p in &embedded_params {
            properties.insert(
                p.name.to_string(),
                param_schema(p, &mut self.extra_components),
            );
            if p.required {
                required.push(p.name.to_string());
            }
        }
        let name = format!("Body_{operation_id}");
        let mut schema = json!({ "properties": properties, "type": "object", "title": name });
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        self.extra_components.push((name.clone(), schema));
        let reference = json!({ "$ref": format!("#/components/schemas/{name}") });
        Some(request_body(
            json!({ "application/json": { "schema": reference } }),
            !required.is_empty(),
        ))
    }

    /// The body one parameter reads (`Json<T>`, `Form<T>`, raw bytes …).
    fn json_body(&mut self, body: &BodyDoc, operation_id: &str) -> Value {
        let mut schema = body.schema.render(&mut self.gen);
        // An optional JSON body may be `null`, and is titled after its parameter, as
        // FastAPI documents `item: Item | None = None`.
        if let (false, Some(name)) = (body.required, body.name) {
            schema = json!({
                "anyOf": [schema, { "type": "null" }],
                "title": title_case(name),
            });
        }
        if body.per_operation {
            let name = format!("Body_{operation_id}");
            if let Value::Object(m) = &mut schema {
                m.insert("title".into(), json!(name));
            }
            self.extra_components.push((name.clone(), schema));
            schema = json!({ "$ref": format!("#/components/schemas/{name}") });
        }
        if let (Some(name), Value::Object(m)) = (body.name, &mut schema) {
            if !m.is_empty() && !m.contains_key("$ref") {
                m.entry("title").or_insert_with(|| json!(title_case(name)));
            }
        }
        let mut content = Map::new();
        for ct in &body.content_types {
            content.insert((*ct).to_owned(), json!({ "schema": schema.clone() }));
        }
        request_body(Value::Object(content), body.required)
    }

    /// Responses: the success one, the documented extras, then the errors.
    fn responses(
        &mut self,
        op: &Operation,
        operation_id: &str,
        has_body: bool,
    ) -> Map<String, Value> {
        let doc = op.doc();
        let mut responses: Map<String, Value> = Map::new();
        let (status, success) = self.success_response(op, operation_id);
        responses.insert(status.to_string(), Value::Object(success));
        for extra in op.responses() {
            let schema = extra.schema.as_ref().map(|s| s.render(&mut self.gen));
            let description = if extra.description.is_empty() {
                status_description(extra.status)
            } else {
                extra.description.clone()
            };
            let entry = response_entry(
                &description,
                Some(crate::response::APPLICATION_JSON),
                schema,
            );
            responses.insert(extra.status.to_string(), Value::Object(entry));
        }
        if op.is_rate_limited() {
            self.rate_limited(&mut responses, status);
        }
        self.error_responses(&mut responses, doc, has_body);
        responses
    }

    /// The success response: its status and object.
    fn success_response(
        &mut self,
        op: &Operation,
        operation_id: &str,
    ) -> (u16, Map<String, Value>) {
        let doc = op.doc();
        let success = doc.response.clone().unwrap_or_else(ResponseDoc::any_json);
        let status = op
            .status()
            .map(|s| s.as_u16())
            .or(success.status)
            .unwrap_or(200);
        let no_body = matches!(status, 204 | 304) || (100..200).contains(&status);
        let mut schema = (!no_body && success.content_type.is_some())
            .then(|| success.schema.render(&mut self.gen));
        // A JSON response that is not a named type's is titled after the operation, as
        // FastAPI titles it: `Response Read Items Items  Get`.
        let json_response = success.content_type == Some(crate::response::APPLICATION_JSON);
        if let (true, Some(Value::Object(m))) = (json_response, &mut schema) {
            if !m.is_empty() && !m.contains_key("$ref") {
                let title = title_case(&format!("Response_{operation_id}"));
                m.insert("title".into(), json!(title));
            }
        }
        let description = op
            .meta()
            .response_description
            .unwrap_or("Successful Response");
        (
            status,
            response_entry(description, success.content_type, schema),
        )
    }

    /// A rate-limited operation: its 429, and the `RateLimit` headers on it and on
    /// the success response.
    fn rate_limited(&mut self, responses: &mut Map<String, Value>, success: u16) {
        if let Some(Value::Object(entry)) = responses.get_mut(&success.to_string()) {
            entry.insert(
                "headers".into(),
                crate::rate_limit::documented_headers(false),
            );
        }
        if responses.contains_key("429") {
            return;
        }
        let (ct, schema) = match &self.info.error_body {
            Some((ct, schema)) => (Some(*ct), Some(schema.render(&mut self.gen))),
            None => (
                Some(crate::response::APPLICATION_JSON),
                Some(detail_schema()),
            ),
        };
        let mut entry = response_entry("Too Many Requests", ct, schema);
        entry.insert(
            "headers".into(),
            crate::rate_limit::documented_headers(true),
        );
        responses.insert("429".into(), Value::Object(entry));
    }

    /// The 400 and 401 of the complete style, and the answer to invalid input.
    fn error_responses(
        &mut self,
        responses: &mut Map<String, Value>,
        doc: &OperationDoc,
        has_body: bool,
    ) {
        let json_ct = Some(crate::response::APPLICATION_JSON);
        let complete = self.info.style.has_complete_statuses();
        // The body of an `HttpError`: FastAPI's `detail`, or the app's own.
        let info = self.info;
        let error_body = |gen: &mut SchemaGenerator| match &info.error_body {
            Some((ct, schema)) => (Some(*ct), Some(schema.render(gen))),
            None => (json_ct, Some(detail_schema())),
        };
        if complete && has_body && !responses.contains_key("400") {
            // A body that is not text in the declared encoding never reaches
            // validation: FastAPI answers 400 without documenting it.
            let (ct, schema) = error_body(&mut self.gen);
            let entry = response_entry("The body could not be parsed", ct, schema);
            responses.insert("400".into(), Value::Object(entry));
        }
        if complete && !doc.security.is_empty() && !responses.contains_key("401") {
            // Missing or refused credentials: documented, unlike in FastAPI.
            let (ct, schema) = error_body(&mut self.gen);
            let entry = response_entry("Not authenticated", ct, schema);
            responses.insert("401".into(), Value::Object(entry));
        }
        if !doc.takes_input() {
            return;
        }
        let (status, entry) = match &self.info.validation_response {
            // The app's own answer to invalid input, as it declared it.
            Some(v) => {
                let schema = v.schema.render(&mut self.gen);
                let entry = response_entry(&v.description, Some(v.content_type), Some(schema));
                (v.status.to_string(), entry)
            }
            None => {
                self.uses_validation_error = true;
                let schema = json!({ "$ref": "#/components/schemas/HTTPValidationError" });
                (
                    "422".to_owned(),
                    response_entry("Validation Error", json_ct, Some(schema)),
                )
            }
        };
        responses.insert(status, Value::Object(entry));
    }

    /// `components`: the named schemas (each titled as pydantic titles it, in the
    /// document's style) and the security schemes.
    fn components(mut self) -> Map<String, Value> {
        let mut schemas: BTreeMap<String, Value> =
            self.gen.take_definitions(true).into_iter().collect();
        for (name, schema) in self.extra_components {
            schemas.entry(name).or_insert(schema);
        }
        // Named schemas carry their name as title, as pydantic's do. A generic type
        // named as pydantic keys it (`#[schemars(rename = "Page_{T}_")]` →
        // `Page_Item_`) is titled as pydantic titles it (`Page[Item]`), without the
        // generic type's description, as pydantic writes a parametrised model.
        for (name, schema) in schemas.iter_mut() {
            let Value::Object(m) = schema else { continue };
            if m.contains_key("title") {
                continue;
            }
            let title = match generic_title(name) {
                Some(title) => {
                    m.remove("description");
                    title
                }
                None => name.clone(),
            };
            m.insert("title".into(), json!(title));
        }
        if self.uses_validation_error {
            for (name, schema) in validation_error_schemas() {
                schemas.entry(name.to_owned()).or_insert(schema);
            }
        }
        for schema in schemas.values_mut() {
            style::schema(schema, self.info.style);
        }
        let mut components = Map::new();
        if !schemas.is_empty() {
            components.insert("schemas".into(), json!(schemas));
        }
        if !self.schemes.is_empty() {
            components.insert("securitySchemes".into(), json!(self.schemes));
        }
        components
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_keys_are_titled_as_pydantic_titles_them() {
        assert_eq!(generic_title("Page_Item_").as_deref(), Some("Page[Item]"));
        assert_eq!(
            generic_title("Pair_int__str_").as_deref(),
            Some("Pair[int, str]")
        );
        assert_eq!(generic_title("Item"), None);
        assert_eq!(generic_title("Body_read_items_items__get"), None);
        assert_eq!(generic_title("My_Type"), None);
    }

    #[test]
    fn titles_follow_pydantic() {
        assert_eq!(title_case("item_id"), "Item Id");
        assert_eq!(title_case("x-token"), "X-Token");
        assert_eq!(title_case("q"), "Q");
        assert_eq!(title_case("user_agent2x"), "User Agent2X");
    }
}
