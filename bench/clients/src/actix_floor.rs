//! The idle-connection floor for `bench/`: the least a WebSocket server built on actix-web
//! and actix-ws, the stack Easel's design fixes, holds for each open connection. Every
//! WebSocket upgrade, on any path, is accepted with `actix_ws::handle`; one task per
//! connection reads its messages (continuations put together, as y-sync needs), answers sync step 1 with the step 2 of an empty document
//! and pings with pongs, and ignores everything else: no rooms, no document, no
//! authentication. Its memory per idle connection is what actix-http's connection and
//! actix-ws's stream and session cost before any code of Easel's.
//!
//! Plain HTTP requests (the benchmark's readiness probe) get `200 floor`. Listens on
//! `$HOST:$PORT` (default 127.0.0.1, a free port) with actix's default worker count (one
//! per core), Nagle off and a 4,096-connection accept queue, as Easel.
//!
//! Run: `PORT=9000 actix-floor`

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use actix_ws::AggregatedMessage as Message;

/// Sync (0), step 2 (1), an update of 2 bytes: the empty v1 update `[0, 0]`.
const EMPTY_STEP2: [u8; 5] = [0, 1, 2, 0, 0];

async fn socket(req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    if !req.headers().contains_key(actix_web::http::header::UPGRADE) {
        return Ok(HttpResponse::Ok().body("floor"));
    }
    let (response, mut session, stream) = actix_ws::handle(&req, body)?;
    // A y-sync message may arrive split into continuation frames: put them back together.
    let mut stream = stream.aggregate_continuations();
    actix_web::rt::spawn(async move {
        while let Some(Ok(message)) = stream.recv().await {
            let answered = match message {
                Message::Binary(data) if data.starts_with(&[0, 0]) => {
                    session.binary(&EMPTY_STEP2[..]).await
                }
                Message::Ping(data) => session.pong(&data).await,
                Message::Close(_) => break,
                _ => Ok(()),
            };
            if answered.is_err() {
                return;
            }
        }
        let _ = session.close(None).await;
    });
    Ok(response)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "0".to_owned())
        .parse()
        .map_err(|e| std::io::Error::other(format!("PORT: {e}")))?;
    let server = HttpServer::new(|| App::new().default_service(web::to(socket)))
        .tcp_nodelay(true)
        .backlog(4096)
        .bind((host, port))?;
    for addr in server.addrs() {
        println!("actix-floor listening on {addr}");
    }
    server.run().await
}
