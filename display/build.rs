//! Compiles `ui/board.slint`. Debug info is always on: the UI tests find the shown number
//! and window by element, which only works with it (see TOOLCHAIN.md), and it costs nothing
//! a viewer would notice.

fn main() {
    let config = slint_build::CompilerConfiguration::new().with_debug_info(true);
    slint_build::compile_with_config("ui/board.slint", config).expect("ui/board.slint compiles");
}
