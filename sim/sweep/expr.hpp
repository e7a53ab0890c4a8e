#pragma once
/// The constraint language: small arithmetic and logic over a point's parameters.
///
/// Grammar (usual precedence, lowest first):
///   or:   and { ("||" | "or") and }
///   and:  not { ("&&" | "and") not }
///   not:  ("!" | "not") not | cmp
///   cmp:  sum [ ("<" | "<=" | ">" | ">=" | "==" | "!=") sum ]
///   sum:  prod { ("+" | "-") prod }
///   prod: unary { ("*" | "/") unary }
///   unary: "-" unary | primary
///   primary: NUMBER[UNIT] | "string" | NAME | FUNC "(" or { "," or } ")" | "(" or ")"
/// NAME is a dotted path ("chip.sram.capacity", "model.expert_bytes", an axis name);
/// quantities are numbers in base units (B, B/s, s, Hz), so "512MiB" and 536870912 are equal;
/// true and false are 1 and 0. FUNC is min, max or log2. A constraint holds when its value is
/// a non-zero number.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace moesim::sweep {

/// A value in an expression: a number or a string.
struct ExprValue {
  bool is_string = false;
  double number = 0.0;
  std::string text;
};

/// A problem in an expression, at `offset` characters into its text.
struct ExprError {
  size_t offset = 0;
  std::string message;
};

/// Looks a NAME up; nullopt when unknown.
using ExprResolver = std::function<std::optional<ExprValue>(const std::string& name)>;

/// A parsed expression.
class Expr {
 public:
  /// Parses `text`; throws ExprError on a syntax error.
  static Expr parse(const std::string& text);
  /// Evaluates with `resolve`; throws ExprError for an unknown name or a type mismatch
  /// (arithmetic or ordering on strings, a string compared with a number).
  ExprValue eval(const ExprResolver& resolve) const;
  /// True when eval() gives a non-zero number; a string result is an ExprError.
  bool holds(const ExprResolver& resolve) const;
  /// Every NAME used, with its offset, in text order.
  const std::vector<std::pair<std::string, size_t>>& names() const { return m_names; }

  struct Node;  ///< implementation detail

 private:
  std::shared_ptr<const Node> m_root;
  std::vector<std::pair<std::string, size_t>> m_names;
};

}  // namespace moesim::sweep
