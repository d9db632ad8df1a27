//! The `dicomweb` command-line program.

fn main() {
    println!("dicomweb");
}
