//! The `callharness` command; see `callharness --help`.

fn main() {
    std::process::exit(callharness::cli::main());
}
