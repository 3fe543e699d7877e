//! `sqlx::migrate!` embeds the migrations when the crate compiles, but on stable Rust cargo does
//! not know the macro read them: a migration added without a change to the Rust code would be
//! missing from a build reusing an earlier one (a developer's, or CI's kept target directory).
//! Watching the two directories rebuilds the crate whenever one of them changes.

fn main() {
    println!("cargo:rerun-if-changed=migrations/postgres");
    println!("cargo:rerun-if-changed=migrations/sqlite");
}
