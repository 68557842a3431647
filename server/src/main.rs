//! The `easel` binary: everything it does lives in [`easel::cli`].

fn main() -> std::process::ExitCode {
    easel::cli::main()
}
