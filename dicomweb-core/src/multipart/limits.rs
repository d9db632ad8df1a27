//! Bounds for the multipart decoder.

/// Bounds that keep the multipart decoder's memory and work finite on hostile input.
///
/// The decoder never buffers a part's body, so no limit concerns body size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MultipartLimits {
    /// The most bytes of one part's header block, line breaks included (default 64 KiB).
    pub max_header_bytes: usize,
    /// The most header fields in one part (default 64).
    pub max_headers: usize,
    /// The most parts in one body (default 1,000,000: a whole-slide image's frames).
    pub max_parts: usize,
    /// The most bytes before the first delimiter (default 64 KiB).
    pub max_preamble: u64,
    /// The most transport padding (spaces, tabs) after a boundary on a delimiter line
    /// (default 1 KiB).
    pub max_padding: usize,
}

impl Default for MultipartLimits {
    fn default() -> MultipartLimits {
        MultipartLimits {
            max_header_bytes: 64 * 1024,
            max_headers: 64,
            max_parts: 1_000_000,
            max_preamble: 64 * 1024,
            max_padding: 1024,
        }
    }
}

impl MultipartLimits {
    /// These limits with another bound on one part's header bytes.
    pub fn with_max_header_bytes(mut self, max: usize) -> MultipartLimits {
        self.max_header_bytes = max;
        self
    }

    /// These limits with another bound on one part's header count.
    pub fn with_max_headers(mut self, max: usize) -> MultipartLimits {
        self.max_headers = max;
        self
    }

    /// These limits with another bound on the number of parts.
    pub fn with_max_parts(mut self, max: usize) -> MultipartLimits {
        self.max_parts = max;
        self
    }

    /// These limits with another bound on the preamble.
    pub fn with_max_preamble(mut self, max: u64) -> MultipartLimits {
        self.max_preamble = max;
        self
    }

    /// These limits with another bound on transport padding.
    pub fn with_max_padding(mut self, max: usize) -> MultipartLimits {
        self.max_padding = max;
        self
    }
}
