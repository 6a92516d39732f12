//! `jiesu text train|eval`: the text classifier on CSV files.

use crate::{TextCmd, print_out};
use anyhow::{Result, anyhow};

pub fn run(cmd: TextCmd) -> Result<()> {
    let out = match cmd {
        TextCmd::Train {
            input,
            text_col,
            label_col,
            model,
        } => serde_json::to_value(
            jiesu_text::train_csv(&input, &text_col, &label_col, &model)
                .map_err(|e| anyhow!("{e}"))?,
        )?,
        TextCmd::Eval {
            model,
            input,
            text_col,
            label_col,
        } => serde_json::to_value(
            jiesu_text::eval_csv(&model, &input, &text_col, &label_col)
                .map_err(|e| anyhow!("{e}"))?,
        )?,
    };
    print_out(&serde_json::to_string_pretty(&out)?);
    Ok(())
}
