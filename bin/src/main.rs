//! The `nokv` server binary: command line and configuration file, then `shard::run`.

fn main() {
    eprintln!("nokv: the server is not built yet; see README.md for the engine benchmark");
    std::process::exit(2);
}
