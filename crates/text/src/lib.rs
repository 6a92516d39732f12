//! jiesu-text: Chinese text for the 12345 hotline.
//!
//! * [`normalize`] / [`mask_pii`]: 全角/半角, whitespace, punctuation; phone and ID masking.
//! * [`Segmenter`]: jieba with a civic lexicon (street, community and unit names).
//! * [`Model`]: a linear classifier over hashed word and character n-grams with calibrated
//!   confidence, for any label set (category, request type, unit); [`train_csv`] / [`eval_csv`]
//!   are the file interface of `jiesu text train|eval`.
//! * [`detect_emergency`]: gas, fire, trapped, injured, violence → transfer at once.
//! * [`DuplicateIndex`]: SimHash near-duplicate candidates (并单) by place and time window.
//! * [`address::Resolver`]: address → street and community from a gazetteer plus history.

pub mod address;
mod dedup;
mod emergency;
mod error;
mod eval;
mod features;
mod model;
mod normalize;
pub mod search;
mod segment;

pub use dedup::{DEFAULT_MAX_DISTANCE, DuplicateIndex, simhash};
pub use emergency::{EmergencyFlag, EmergencyLevel, Transfer, detect_emergency};
pub use error::{Result, TextError};
pub use eval::{
    EvalReport, LabelScore, TrainSummary, eval, eval_as, eval_csv, read_labelled_csv, score,
    train_csv, train_csv_with,
};
pub use features::{FeatureConfig, InputKind, looks_tokenised};
pub use model::{Model, Prediction, TrainConfig};
pub use normalize::{mask_pii, normalize};
pub use segment::{Dictionary, Segmenter};
