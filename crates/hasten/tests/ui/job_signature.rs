use hasten::prelude::*;

#[derive(Serialize, Deserialize)]
struct Args {
    n: u32,
}

#[job(retries = 3, timeout = "soon", max_attempts = 0)]
async fn bad_settings(args: Args) {
    let _ = args;
}

#[job]
async fn two_arguments(a: Args, b: Args) {
    let _ = (a, b);
}

#[job]
async fn reads_a_header(#[header] token: String) {
    let _ = token;
}

/// Arguments that cannot be stored.
struct Opaque;

#[job]
async fn opaque(o: Opaque) {
    let _ = o;
}

fn main() {
    let _ = App::new().job(opaque);
}
