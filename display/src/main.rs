//! `qhall-display`: the lobby board. Everything is in the library; see `qhall_display::run`.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    qhall_display::run(qhall_display::Args::parse())
}
