//! Arithmetic mod 5 by recursive descent, for modular_arithmetic_brackets and solve_equation.
//!
//! Grammar (usual precedence, left-associative):
//! `expr = term (('+' | '-') term)*`, `term = unary ('*' unary)*`,
//! `unary = '-' unary | primary`, `primary = digit | '(' expr ')'`.
//! The generator writes fully bracketed expressions, so precedence never decides a value, but
//! this parser does not rely on that.

/// The value mod 5 of a 40-token bracketed expression.
pub(crate) fn brackets(tokens: &[&str]) -> Result<u32, String> {
    if tokens.len() != 40 {
        return Err(format!("length {} instead of 40", tokens.len()));
    }
    eval(&tokens.concat())
}

/// The digit that `x` stands for in `LHS = v` (LHS 38 tokens, one `x`), found by trying all
/// five digits; exactly one must satisfy the equation.
pub(crate) fn solve_equation(tokens: &[&str]) -> Result<u32, String> {
    let [lhs @ .., "=", rhs] = tokens else {
        return Err("no `= v` at the end".to_owned());
    };
    if tokens.len() != 40 || lhs.iter().filter(|t| **t == "x").count() != 1 {
        return Err("expected 40 tokens with exactly one `x`".to_owned());
    }
    let rhs: u32 = rhs
        .parse()
        .map_err(|_| format!("right-hand side `{rhs}` is not a digit"))?;
    let lhs = lhs.concat();
    let mut solutions = Vec::new();
    for x in 0..5u32 {
        if eval(&lhs.replace('x', &x.to_string()))? == rhs {
            solutions.push(x);
        }
    }
    match solutions[..] {
        [x] => Ok(x),
        _ => Err(format!("solutions {solutions:?} instead of exactly one")),
    }
}

/// Evaluates `text` mod 5; the whole text must be one expression.
pub(crate) fn eval(text: &str) -> Result<u32, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
    };
    let v = p.expr()?;
    if p.at != p.s.len() {
        return Err(format!("trailing input at {} in `{text}`", p.at));
    }
    Ok(v.rem_euclid(5) as u32)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn expr(&mut self) -> Result<i64, String> {
        let mut v = self.term()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.at += 1;
            let r = self.term()?;
            v = if op == b'+' { v + r } else { v - r }.rem_euclid(5);
        }
        Ok(v)
    }

    fn term(&mut self) -> Result<i64, String> {
        let mut v = self.unary()?;
        while self.peek() == Some(b'*') {
            self.at += 1;
            v = (v * self.unary()?).rem_euclid(5);
        }
        Ok(v)
    }

    fn unary(&mut self) -> Result<i64, String> {
        if self.peek() == Some(b'-') {
            self.at += 1;
            return Ok((-self.unary()?).rem_euclid(5));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<i64, String> {
        match self.peek() {
            Some(d @ b'0'..=b'4') => {
                self.at += 1;
                Ok(i64::from(d - b'0'))
            }
            Some(b'(') => {
                self.at += 1;
                let v = self.expr()?;
                if self.peek() != Some(b')') {
                    return Err(format!("expected `)` at {}", self.at));
                }
                self.at += 1;
                Ok(v)
            }
            other => Err(format!(
                "unexpected {:?} at {}",
                other.map(char::from),
                self.at
            )),
        }
    }
}

#[test]
fn evaluator_knows_precedence_and_unary_minus() {
    assert_eq!(eval("((1+2)*-3)").unwrap(), 1); // -9 mod 5
    assert_eq!(eval("1+2*3").unwrap(), 2);
    assert_eq!(eval("(-4)").unwrap(), 1);
    assert_eq!(eval("2--2").unwrap(), 4);
    assert!(eval("(1+2").is_err());
    assert!(eval("1+").is_err());
}
