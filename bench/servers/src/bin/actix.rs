//! The benchmark endpoints in actix-web 4, with the same checks written by hand.

use actix_web::{get, post, web, App, HttpRequest, HttpResponse, HttpServer, Responder};
use bench_servers::{Message, Order, TypedQuery, HELLO, WAIT};
use futures_util::StreamExt;

#[get("/plaintext")]
async fn plaintext() -> impl Responder {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(HELLO)
}

#[get("/json")]
async fn json() -> impl Responder {
    web::Json(Message { message: HELLO })
}

#[post("/typed/{id}")]
async fn typed(
    path: web::Path<u32>,
    query: Result<web::Query<TypedQuery>, actix_web::Error>,
    req: HttpRequest,
    order: Result<web::Json<Order>, actix_web::Error>,
) -> HttpResponse {
    let id = path.into_inner();
    let client = req
        .headers()
        .get("x-client")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (Ok(query), Ok(order), Some(client)) = (query, order, client) else {
        return HttpResponse::UnprocessableEntity().body("invalid input");
    };
    let query = query.into_inner();
    let order = order.into_inner();
    if let Err(fields) = bench_servers::check(id, &query, &order) {
        return HttpResponse::UnprocessableEntity().json(serde_json::json!({ "detail": fields }));
    }
    HttpResponse::Ok().json(bench_servers::receipt(id, client, query, order))
}

#[get("/io")]
async fn io() -> impl Responder {
    actix_web::rt::time::sleep(WAIT).await;
    "done"
}

#[get("/sync")]
async fn sync() -> impl Responder {
    let _ = web::block(|| std::thread::sleep(WAIT)).await;
    "done"
}

#[get("/ws")]
async fn ws(req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    let (resp, mut session, mut stream) = actix_ws::handle(&req, body)?;
    actix_web::rt::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            let sent = match msg {
                actix_ws::Message::Text(t) => session.text(t).await,
                actix_ws::Message::Binary(b) => session.binary(b).await,
                actix_ws::Message::Ping(p) => session.pong(&p).await,
                actix_ws::Message::Close(_) => break,
                _ => Ok(()),
            };
            if sent.is_err() {
                break;
            }
        }
        let _ = session.close(None).await;
    });
    Ok(resp)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| {
        App::new()
            .service(plaintext)
            .service(json)
            .service(typed)
            .service(io)
            .service(sync)
            .service(ws)
    })
    .workers(1)
    .max_connections(20_000)
    .bind(bench_servers::addr())?
    .run()
    .await
}
