//! Compiles the kiosk's Slint UI.
//!
//! Debug info is always on: the UI tests find elements by accessible label and id
//! (`i-slint-backend-testing`), which only works when the compiler kept that information.
//! It costs a few kilobytes of metadata, nothing at run time.

fn main() {
    let config = slint_build::CompilerConfiguration::new().with_debug_info(true);
    slint_build::compile_with_config("ui/kiosk.slint", config).expect("the kiosk UI compiles");
}
