//! Compiles the Slint UI (ui/app.slint) with its bundled English translation, and embeds every
//! phrasing file of the assistant (assets/assistant/phrasings/*.toml), so a file staff add is
//! shipped without a code change.

use std::path::Path;

fn embed_phrasings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/assistant/phrasings");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from(
        "/// Every phrasing file, (name, text), in name order.\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    out.push_str("];\n");
    let target =
        Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("phrasings.rs");
    if let Err(e) = std::fs::write(&target, out) {
        eprintln!("writing {}: {e}", target.display());
        std::process::exit(1);
    }
}

fn main() {
    embed_phrasings();
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("translations")
        // One string, one translation, wherever it appears: no per-component context.
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        // Element ids in debug builds let tests find elements by id.
        .with_debug_info(true);
    if let Err(e) = slint_build::compile_with_config("ui/app.slint", config) {
        eprintln!("ui/app.slint: {e}");
        std::process::exit(1);
    }
}
