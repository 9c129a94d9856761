//! The MLP activations the paper studies: ReLU (main results), GELU and Mish.

use std::fmt;
use std::str::FromStr;

use crate::CommonError;

/// An MLP activation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// Gaussian error linear unit (exact erf form, PyTorch's default).
    Gelu,
    /// x * tanh(softplus(x)).
    Mish,
}

impl Activation {
    /// All activations, in the paper's order.
    pub const ALL: [Activation; 3] = [Activation::Relu, Activation::Gelu, Activation::Mish];

    /// The lowercase name used on command lines and in paths.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Gelu => "gelu",
            Activation::Mish => "mish",
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activation {
    type Err = CommonError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Activation::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| CommonError::UnknownActivation(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Activation::ALL {
            assert_eq!(a.name().parse::<Activation>().unwrap(), a);
        }
        assert!("tanh".parse::<Activation>().is_err());
    }
}
