//! Compiles the Slint UI (ui/app.slint) with its bundled English translation.

fn main() {
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
