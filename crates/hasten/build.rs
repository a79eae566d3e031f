//! Unpacks the Swagger UI files `/docs` serves from the release archive that the
//! `utoipa-swagger-ui-vendored` crate ships inside its package (nothing is downloaded).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "swagger-ui")]
    swagger::unpack();
}

#[cfg(feature = "swagger-ui")]
mod swagger {
    use std::io::Read;
    use std::path::PathBuf;

    /// The files used, by their name in the archive's `dist/` folder.
    const FILES: [&str; 5] = [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "oauth2-redirect.js",
        "favicon-32x32.png",
        "../LICENSE",
    ];

    pub(super) fn unpack() {
        let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
        let bytes = utoipa_swagger_ui_vendored::SWAGGER_UI_VENDORED;
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .expect("the vendored Swagger UI archive is a zip file");
        let top = archive
            .file_names()
            .find_map(|n| n.ok()?.split('/').next().map(str::to_owned))
            .expect("the archive has a top folder");
        for name in FILES {
            let path = match name.strip_prefix("../") {
                Some(rest) => format!("{top}/{rest}"),
                None => format!("{top}/dist/{name}"),
            };
            let mut file = archive
                .by_name(&path)
                .unwrap_or_else(|e| panic!("`{path}` missing from the Swagger UI archive: {e}"));
            let mut data = Vec::new();
            file.read_to_end(&mut data)
                .unwrap_or_else(|e| panic!("cannot unpack `{path}`: {e}"));
            let target = out.join(format!("swagger-{}", name.trim_start_matches("../")));
            std::fs::write(&target, data)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
        }
        let version = top.trim_start_matches("swagger-ui-");
        std::fs::write(out.join("swagger-version.txt"), version).expect("write the version");
    }
}
