//! The `easel` binary, built inside the test crate so tests that need a real process
//! (the CLI, a SIGKILL crash) can find it at `CARGO_BIN_EXE_easel-test-server`.

fn main() -> std::process::ExitCode {
    easel::cli::main()
}
