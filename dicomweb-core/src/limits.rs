//! Limits and options for readers of untrusted input.

/// Bounds that keep a reader's memory and recursion finite on hostile input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The deepest sequence nesting accepted (a top-level element is depth 1).
    pub max_depth: usize,
    /// The most elements accepted in one document, counted at every depth.
    pub max_elements: usize,
    /// The most bytes a deflated Part 10 data set may inflate to (Deflated Explicit VR Little
    /// Endian): a few kilobytes of deflate stream can otherwise inflate to gigabytes.
    pub max_inflated_bytes: usize,
}

impl Default for Limits {
    /// 64 levels of nesting, 16 million elements and 256 MiB inflated: far beyond any real data
    /// set (a 2,000-instance CT series' metadata holds about 300,000 elements; deflate is used
    /// for reports and other objects without large pixel data). The inflated bytes are held
    /// while the data set is read, so the bound is also one on memory; raise it with
    /// [`Limits::with_max_inflated_bytes`] for larger deflated objects.
    fn default() -> Limits {
        Limits {
            max_depth: 64,
            max_elements: 16_000_000,
            max_inflated_bytes: 256 << 20,
        }
    }
}

/// How a reader treats input that is not strictly conformant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Size bounds.
    pub limits: Limits,
    /// When `true`, a missing `vr` is an error; when `false` (the default), it is looked up in
    /// the data dictionary, and an unknown tag without a VR becomes `UN`.
    pub strict: bool,
}

impl ReadOptions {
    /// Options that refuse what the standard does not allow.
    pub fn strict() -> ReadOptions {
        ReadOptions {
            strict: true,
            ..ReadOptions::default()
        }
    }

    /// These options with other limits.
    pub fn with_limits(mut self, limits: Limits) -> ReadOptions {
        self.limits = limits;
        self
    }
}

impl Limits {
    /// These limits with another nesting bound.
    pub fn with_max_depth(mut self, max_depth: usize) -> Limits {
        self.max_depth = max_depth;
        self
    }

    /// These limits with another element-count bound.
    pub fn with_max_elements(mut self, max_elements: usize) -> Limits {
        self.max_elements = max_elements;
        self
    }

    /// These limits with another bound on a deflated data set's inflated size.
    pub fn with_max_inflated_bytes(mut self, max_inflated_bytes: usize) -> Limits {
        self.max_inflated_bytes = max_inflated_bytes;
        self
    }
}
