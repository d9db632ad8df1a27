//! Test data files and folders on disk.

use std::path::{Path, PathBuf};

/// The files directly in `dir` whose names end with `suffix`, sorted by name.
///
/// # Panics
///
/// When `dir` cannot be read: test data that is missing is a failed test.
pub fn with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the test data folder {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(suffix))
        })
        .collect();
    files.sort();
    files
}

/// The names of the entries of `dir`, sorted.
///
/// # Panics
///
/// When `dir` cannot be read.
pub fn names(dir: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the folder {}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|entry| {
            let entry =
                entry.unwrap_or_else(|e| panic!("cannot read the folder {}: {e}", dir.display()));
            entry.file_name().to_string_lossy().into_owned()
        })
        .collect();
    names.sort();
    names
}
