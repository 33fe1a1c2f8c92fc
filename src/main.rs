//! The `kiosk` binary: wiring only; everything lives in the library (see `kiosk::cli`).

fn main() -> std::process::ExitCode {
    kiosk::cli::main()
}
