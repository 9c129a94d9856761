//! ListOps by recursive descent over token strings: `[MIN`, `[MAX`, `[MED`, `[SM` open a list
//! that `]` closes; digits are leaves. Also checks the generator's shape limits: 2 to 10
//! arguments per operator and depth at most 10 (root depth 1), and the length window 501..=599.

/// The value of a ListOps sequence, after checking its shape.
pub(crate) fn value(tokens: &[&str]) -> Result<u32, String> {
    if !(501..=599).contains(&tokens.len()) {
        return Err(format!("length {} outside 501..=599", tokens.len()));
    }
    let mut at = 0;
    let v = node(tokens, &mut at, 1)?;
    if at != tokens.len() {
        return Err(format!("trailing tokens from {at}"));
    }
    Ok(v)
}

fn node(tokens: &[&str], at: &mut usize, depth: usize) -> Result<u32, String> {
    if depth > 10 {
        return Err(format!("depth {depth} at token {at}"));
    }
    let Some(&head) = tokens.get(*at) else {
        return Err("unexpected end".to_owned());
    };
    *at += 1;
    if let Ok(d) = head.parse::<u32>() {
        return if d < 10 {
            Ok(d)
        } else {
            Err(format!("leaf `{head}`"))
        };
    }
    let mut args = Vec::new();
    while tokens.get(*at) != Some(&"]") {
        args.push(node(tokens, at, depth + 1)?);
    }
    *at += 1;
    if !(2..=10).contains(&args.len()) {
        return Err(format!("`{head}` with {} arguments", args.len()));
    }
    args.sort();
    let n = args.len();
    match head {
        "[MIN" => Ok(args[0]),
        "[MAX" => Ok(args[n - 1]),
        "[SM" => Ok(args.iter().sum::<u32>() % 10),
        "[MED" if n % 2 == 1 => Ok(args[n / 2]),
        "[MED" => Ok(((args[n / 2 - 1] + args[n / 2]) as f64 / 2.0).trunc() as u32),
        other => Err(format!("unknown operator `{other}`")),
    }
}

#[test]
fn evaluator_follows_the_operator_definitions() {
    // `[MAX e Z Z Z Z Z ]` has the value of `e` and 552 + len(e) tokens: Z = `[SM Y x9 ]` and
    // Y = `[SM 0 x10 ]` are zero-valued, 110 and 12 tokens long.
    let pad = |e: Vec<&'static str>| {
        let y = [vec!["[SM"], vec!["0"; 10], vec!["]"]].concat();
        let z = [vec!["[SM"], y.repeat(9), vec!["]"]].concat();
        [vec!["[MAX"], e, z.repeat(5), vec!["]"]].concat()
    };
    assert_eq!(value(&pad(vec!["[MED", "4", "1", "]"])).unwrap(), 2);
    assert_eq!(value(&pad(vec!["[SM", "9", "9", "5", "]"])).unwrap(), 3);
    assert_eq!(
        value(&pad(vec!["[MIN", "3", "[MAX", "7", "8", "]", "]"])).unwrap(),
        3
    );
    assert!(value(&["[MIN", "3", "]"]).is_err());
}
