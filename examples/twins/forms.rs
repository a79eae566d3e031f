//! Forms and uploads: form fields (`Form()`), a form model (`Annotated[Model, Form()]`),
//! file uploads (`UploadFile`, `list[UploadFile]`, `bytes = File()`), an optional file, a
//! file beside form fields, and their 422s (a missing field, a missing file). Its
//! FastAPI twin is `tests/twin/apps/forms.py`.

use hasten::prelude::*;
use hasten::uploads::UploadFile;
use serde_json::{json, Value};

/// The whole content of an upload, or a 500.
async fn content(file: &UploadFile) -> Result<Bytes, HttpError> {
    file.bytes()
        .await
        .map_err(|_| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the upload"))
}

/// Log in with form fields.
#[post("/login/")]
async fn login(#[form] username: String, #[form(min_length = 3)] password: String) -> Json<Value> {
    Json(json!({ "username": username, "password_length": password.chars().count() }))
}

/// A sign-up form.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct SignUp {
    username: String,
    age: i64,
    #[serde(default)]
    newsletter: bool,
    #[serde(default)]
    referrer: Option<String>,
}

/// Sign up with a form model.
#[post("/signup/")]
async fn sign_up(data: Form<SignUp>) -> Json<SignUp> {
    Json(data.0)
}

/// A file read whole, as bytes.
#[post("/files/")]
async fn create_file(file: UploadFile) -> Result<Json<Value>, HttpError> {
    Ok(Json(json!({ "file_size": content(&file).await?.len() })))
}

/// One uploaded file.
#[post("/uploadfile/")]
async fn create_upload_file(file: UploadFile) -> Result<Json<Value>, HttpError> {
    let bytes = content(&file).await?;
    Ok(Json(json!({
        "filename": file.filename(),
        "content_type": file.content_type(),
        "size": bytes.len(),
    })))
}

/// Several files under one field name.
#[post("/uploadfiles/")]
async fn create_upload_files(files: Vec<UploadFile>) -> Json<Value> {
    let names: Vec<Option<&str>> = files.iter().map(UploadFile::filename).collect();
    Json(json!({ "filenames": names }))
}

/// An optional file: none sent is no avatar.
#[post("/avatar/")]
async fn set_avatar(file: Option<UploadFile>) -> Json<Value> {
    Json(json!({ "avatar": file.as_ref().and_then(UploadFile::filename) }))
}

/// A file beside form fields.
#[post("/documents/")]
async fn upload_document(
    file: UploadFile,
    #[form] title: String,
    #[form] note: Option<String>,
) -> Result<Json<Value>, HttpError> {
    let bytes = content(&file).await?;
    Ok(Json(json!({
        "title": title,
        "note": note,
        "filename": file.filename(),
        "content": String::from_utf8_lossy(&bytes),
    })))
}

/// The app.
pub(crate) fn app() -> App {
    App::new()
        .title("forms")
        .version("1.0.0")
        .route(login)
        .route(sign_up)
        .route(create_file)
        .route(create_upload_file)
        .route(create_upload_files)
        .route(set_avatar)
        .route(upload_document)
}
