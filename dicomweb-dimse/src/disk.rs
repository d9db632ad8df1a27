//! Free disk space under the state folder, and the pure rule that refuses C-STOREs below a
//! threshold (status A700, Out of Resources).

use std::path::Path;

/// Bytes available to unprivileged writers on the file system holding `path`.
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(path)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Whether a C-STORE may be accepted with `free` bytes left and `threshold` to keep.
pub fn has_room(free: u64, threshold: u64) -> bool {
    free >= threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_read_and_compared() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).unwrap() > 0);
        assert!(free_bytes(&dir.path().join("missing")).is_err());
        assert!(has_room(10, 10));
        assert!(!has_room(9, 10));
    }
}
