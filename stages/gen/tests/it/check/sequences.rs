//! The bit- and move-sequence tasks: parity and even-pairs counts, the missing-duplicate twin,
//! the cycle walk, and a stack simulator.

/// Parses 40 tokens that must all be in `allowed`.
fn forty<'a>(tokens: &[&'a str], allowed: &[&str]) -> Result<Vec<&'a str>, String> {
    if tokens.len() != 40 {
        return Err(format!("length {} instead of 40", tokens.len()));
    }
    match tokens.iter().find(|t| !allowed.contains(t)) {
        Some(bad) => Err(format!("unexpected token `{bad}`")),
        None => Ok(tokens.to_vec()),
    }
}

/// Number of `1`s mod 2.
pub(crate) fn parity(tokens: &[&str]) -> Result<u32, String> {
    let bits = forty(tokens, &["0", "1"])?;
    Ok(bits.iter().filter(|b| **b == "1").count() as u32 % 2)
}

/// Number of adjacent unequal pairs mod 2.
pub(crate) fn even_pairs(tokens: &[&str]) -> Result<u32, String> {
    let bits = forty(tokens, &["0", "1"])?;
    let mut changes = 0;
    for i in 1..bits.len() {
        if bits[i] != bits[i - 1] {
            changes += 1;
        }
    }
    Ok(changes % 2)
}

/// The bit under `MISSING`, read from the same position of the other half; every other position
/// must agree with its twin.
pub(crate) fn missing_duplicate(tokens: &[&str]) -> Result<u32, String> {
    let seq = forty(tokens, &["0", "1", "MISSING"])?;
    let holes: Vec<usize> = (0..40).filter(|&i| seq[i] == "MISSING").collect();
    let [hole] = holes[..] else {
        return Err(format!("{} MISSING tokens", holes.len()));
    };
    let (first, second) = seq.split_at(20);
    for i in 0..20 {
        if i != hole % 20 && first[i] != second[i] {
            return Err(format!("halves differ at {i}"));
        }
    }
    let twin = if hole < 20 {
        second[hole]
    } else {
        first[hole - 20]
    };
    Ok(twin.parse().expect("a bit"))
}

/// Final position on a 5-cycle after moves `0` = left, `1` = stay, `2` = right.
pub(crate) fn cycle_navigation(tokens: &[&str]) -> Result<u32, String> {
    let moves = forty(tokens, &["0", "1", "2"])?;
    let mut position = 0u32;
    for m in moves {
        position = match m {
            "0" => (position + 4) % 5,
            "2" => (position + 1) % 5,
            _ => position,
        };
    }
    Ok(position)
}

/// Simulates the stack: bits (bottom to top, at least one) then actions (at least one).
pub(crate) fn stack_manipulation(tokens: &[&str]) -> Result<u32, String> {
    let seq = forty(tokens, &["0", "1", "POP", "PUSH0", "PUSH1"])?;
    let initial = seq.iter().take_while(|t| **t == "0" || **t == "1").count();
    if !(1..=39).contains(&initial) {
        return Err(format!("initial stack of {initial} bits"));
    }
    let mut stack: Vec<u32> = seq[..initial]
        .iter()
        .map(|b| b.parse().expect("a bit"))
        .collect();
    for action in &seq[initial..] {
        match *action {
            "POP" => {
                stack.pop();
            }
            "PUSH0" => stack.push(0),
            "PUSH1" => stack.push(1),
            bit => return Err(format!("bit `{bit}` after the first action")),
        }
    }
    Ok(stack.last().copied().unwrap_or(2))
}

#[test]
fn stack_simulator_handles_pop_on_empty() {
    let mut seq = vec!["1"];
    seq.extend(["POP"; 38]);
    seq.push("PUSH0");
    assert_eq!(stack_manipulation(&seq).unwrap(), 0);
    seq[39] = "POP";
    assert_eq!(stack_manipulation(&seq).unwrap(), 2);
}
