//! Axis letters: which axes of an array are batch, channels and spatial.
//!
//! A layout is a string of the letters `N` (batch), `C` (channels) and one
//! to three of `D`, `H`, `W` (spatial), one letter per axis, outermost
//! first: `NHWC`, `NCHW`, `HWC`, `CHW`, `NCDHW`, ... Defaults by rank are
//! channels last, as in the L × B × d volumes of the design. Kernels never
//! see letters: they get the [`Layout::split`] of a shape into
//! `outer × spatial × inner`.

use crate::exit::UsageError;
use std::fmt;
use std::str::FromStr;

/// A validated layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    letters: String,
}

/// A shape split around its spatial axes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// Product of the axes before the spatial ones.
    pub outer: usize,
    /// Spatial extents, in layout order.
    pub spatial: Vec<usize>,
    /// Product of the axes after the spatial ones.
    pub inner: usize,
    /// Index of the first spatial axis in the shape.
    pub first_spatial: usize,
}

impl Layout {
    /// The default layout for an array of `rank` axes: `W`, `HW`, `HWC`,
    /// `NHWC`, `NDHWC`. `None` for rank 0 and ranks above 5.
    pub fn default_for_rank(rank: usize) -> Option<Layout> {
        let letters = match rank {
            1 => "W",
            2 => "HW",
            3 => "HWC",
            4 => "NHWC",
            5 => "NDHWC",
            _ => return None,
        };
        Some(Layout { letters: letters.into() })
    }

    /// The letters, outermost axis first.
    pub fn as_str(&self) -> &str {
        &self.letters
    }

    /// Number of axes.
    pub fn rank(&self) -> usize {
        self.letters.len()
    }

    /// Number of spatial axes.
    pub fn spatial_rank(&self) -> usize {
        self.letters.chars().filter(|c| is_spatial(*c)).count()
    }

    /// Checks the layout against an array's shape and splits the shape.
    ///
    /// # Errors
    /// If the layout has a different number of letters than the array has
    /// axes.
    pub fn split(&self, shape: &[usize]) -> Result<Split, UsageError> {
        if shape.len() != self.rank() {
            return Err(UsageError(format!(
                "layout {} names {} axes but the array has {} (shape {})",
                self.letters,
                self.rank(),
                shape.len(),
                crate::npy::fmt_shape(shape)
            )));
        }
        let first = self.letters.find(is_spatial).unwrap_or(self.rank());
        let n = self.spatial_rank();
        Ok(Split {
            outer: shape[..first].iter().product(),
            spatial: shape[first..first + n].to_vec(),
            inner: shape[first + n..].iter().product(),
            first_spatial: first,
        })
    }
}

fn is_spatial(c: char) -> bool {
    matches!(c, 'D' | 'H' | 'W')
}

impl FromStr for Layout {
    type Err = String;

    fn from_str(s: &str) -> Result<Layout, String> {
        let letters = s.to_ascii_uppercase();
        if letters.is_empty() {
            return Err("a layout needs at least one letter".into());
        }
        for (i, c) in letters.chars().enumerate() {
            if !matches!(c, 'N' | 'C' | 'D' | 'H' | 'W') {
                return Err(format!(
                    "'{c}' is not an axis letter (use N, C, D, H, W, as in NHWC or NCHW)"
                ));
            }
            if letters.chars().take(i).any(|d| d == c) {
                return Err(format!("'{c}' appears twice"));
            }
        }
        let spatial: Vec<usize> =
            letters.char_indices().filter(|(_, c)| is_spatial(*c)).map(|(i, _)| i).collect();
        if spatial.windows(2).any(|w| w[1] != w[0] + 1) {
            return Err("the spatial letters D, H, W must be adjacent".into());
        }
        Ok(Layout { letters })
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.letters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_channels_last() {
        let names: Vec<_> =
            (0..7).map(|r| Layout::default_for_rank(r).map(|l| l.letters)).collect();
        assert_eq!(
            names,
            [None, Some("W"), Some("HW"), Some("HWC"), Some("NHWC"), Some("NDHWC"), None]
                .map(|o| o.map(String::from))
        );
    }

    #[test]
    fn split_every_common_layout() {
        type Case<'a> = (&'a str, &'a [usize], (usize, &'a [usize], usize));
        let cases: [Case; 8] = [
            ("NHWC", &[2, 5, 6, 3], (2, &[5, 6], 3)),
            ("NCHW", &[2, 3, 5, 6], (6, &[5, 6], 1)),
            ("HWC", &[5, 6, 3], (1, &[5, 6], 3)),
            ("CHW", &[3, 5, 6], (3, &[5, 6], 1)),
            ("NCW", &[2, 3, 9], (6, &[9], 1)),
            ("NCDHW", &[2, 3, 4, 5, 6], (6, &[4, 5, 6], 1)),
            ("HWCN", &[5, 6, 3, 2], (1, &[5, 6], 6)),
            ("NC", &[2, 3], (6, &[], 1)),
        ];
        for (l, shape, (outer, spatial, inner)) in cases {
            let s = l.parse::<Layout>().unwrap().split(shape).unwrap();
            assert_eq!((s.outer, s.spatial.as_slice(), s.inner), (outer, spatial, inner), "{l}");
        }
    }

    #[test]
    fn bad_layouts() {
        assert!("NHXC".parse::<Layout>().is_err());
        assert!("NHHC".parse::<Layout>().is_err());
        assert!("HCW".parse::<Layout>().is_err());
        assert!("".parse::<Layout>().is_err());
        assert_eq!("nchw".parse::<Layout>().unwrap().as_str(), "NCHW");
        let e = "NCHW".parse::<Layout>().unwrap().split(&[3, 4, 5]).unwrap_err();
        assert!(e.0.contains("names 4 axes but the array has 3"), "{}", e.0);
    }
}
