#include "sim/sweep/expr.hpp"

#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "sim/config/units.hpp"

namespace moesim::sweep {

/// One node of the syntax tree.
struct Expr::Node {
  enum class Kind { kNumber, kString, kName, kUnary, kBinary, kCall } kind = Kind::kNumber;
  std::string op;  ///< operator, name or function
  ExprValue value;
  size_t offset = 0;
  std::vector<std::shared_ptr<const Node>> args;
};

namespace {

using NodeP = std::shared_ptr<const Expr::Node>;
using Node = Expr::Node;

[[noreturn]] void error(size_t offset, const std::string& message) {
  throw ExprError{offset, message};
}

class Parser {
 public:
  Parser(const std::string& text, std::vector<std::pair<std::string, size_t>>* names)
      : m_s(text), m_names(names) {}

  NodeP parse() {
    NodeP n = parse_or();
    skip();
    if (m_i < m_s.size()) error(m_i, fmt::format("unexpected '{}'", m_s.substr(m_i, 1)));
    return n;
  }

 private:
  void skip() {
    while (m_i < m_s.size() && std::isspace(static_cast<unsigned char>(m_s[m_i]))) ++m_i;
  }
  /// Consumes `tok` when it comes next (a word only when not followed by a name character).
  bool accept(const std::string& tok) {
    skip();
    if (m_s.compare(m_i, tok.size(), tok) != 0) return false;
    if (std::isalpha(static_cast<unsigned char>(tok[0]))) {
      const size_t e = m_i + tok.size();
      if (e < m_s.size() &&
          (std::isalnum(static_cast<unsigned char>(m_s[e])) || m_s[e] == '_' || m_s[e] == '.')) {
        return false;
      }
    }
    m_i += tok.size();
    return true;
  }
  NodeP binary(const std::string& op, size_t at, NodeP a, NodeP b) {
    auto n = std::make_shared<Node>();
    n->kind = Node::Kind::kBinary;
    n->op = op;
    n->offset = at;
    n->args = {std::move(a), std::move(b)};
    return n;
  }
  NodeP parse_or() {
    NodeP l = parse_and();
    for (;;) {
      skip();
      const size_t at = m_i;
      if (!accept("||") && !accept("or")) return l;
      l = binary("||", at, l, parse_and());
    }
  }
  NodeP parse_and() {
    NodeP l = parse_not();
    for (;;) {
      skip();
      const size_t at = m_i;
      if (!accept("&&") && !accept("and")) return l;
      l = binary("&&", at, l, parse_not());
    }
  }
  NodeP parse_not() {
    skip();
    const size_t at = m_i;
    if ((m_s.compare(m_i, 2, "!=") != 0 && accept("!")) || accept("not")) {
      auto n = std::make_shared<Node>();
      n->kind = Node::Kind::kUnary;
      n->op = "!";
      n->offset = at;
      n->args = {parse_not()};
      return n;
    }
    return parse_cmp();
  }
  NodeP parse_cmp() {
    NodeP l = parse_sum();
    skip();
    const size_t at = m_i;
    for (const char* op : {"<=", ">=", "==", "!=", "<", ">"}) {
      if (accept(op)) return binary(op, at, l, parse_sum());
    }
    return l;
  }
  NodeP parse_sum() {
    NodeP l = parse_prod();
    for (;;) {
      skip();
      const size_t at = m_i;
      if (accept("+")) {
        l = binary("+", at, l, parse_prod());
      } else if (accept("-")) {
        l = binary("-", at, l, parse_prod());
      } else {
        return l;
      }
    }
  }
  NodeP parse_prod() {
    NodeP l = parse_unary();
    for (;;) {
      skip();
      const size_t at = m_i;
      if (accept("*")) {
        l = binary("*", at, l, parse_unary());
      } else if (accept("/")) {
        l = binary("/", at, l, parse_unary());
      } else {
        return l;
      }
    }
  }
  NodeP parse_unary() {
    skip();
    const size_t at = m_i;
    if (accept("-")) {
      auto n = std::make_shared<Node>();
      n->kind = Node::Kind::kUnary;
      n->op = "-";
      n->offset = at;
      n->args = {parse_unary()};
      return n;
    }
    return parse_primary();
  }
  NodeP parse_primary() {
    skip();
    const size_t at = m_i;
    if (m_i >= m_s.size()) error(m_i, "unexpected end of expression");
    const char c = m_s[m_i];
    auto n = std::make_shared<Node>();
    n->offset = at;
    if (accept("(")) {
      NodeP inner = parse_or();
      if (!accept(")")) error(m_i, "expected ')'");
      return inner;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      size_t e = m_i;
      while (e < m_s.size() &&
             (std::isdigit(static_cast<unsigned char>(m_s[e])) || m_s[e] == '.')) {
        ++e;
      }
      // An exponent ("1e9", "2.5E-3") belongs to the number, not to a unit.
      if (e < m_s.size() && (m_s[e] == 'e' || m_s[e] == 'E')) {
        size_t x = e + 1;
        if (x < m_s.size() && (m_s[x] == '+' || m_s[x] == '-')) ++x;
        if (x < m_s.size() && std::isdigit(static_cast<unsigned char>(m_s[x]))) {
          while (x < m_s.size() && std::isdigit(static_cast<unsigned char>(m_s[x]))) ++x;
          e = x;
        }
      }
      const std::string num = m_s.substr(m_i, e - m_i);
      size_t u = e;
      while (u < m_s.size() &&
             (std::isalpha(static_cast<unsigned char>(m_s[u])) || m_s[u] == '/')) {
        ++u;
      }
      n->kind = Node::Kind::kNumber;
      if (u > e) {
        const std::string q = m_s.substr(m_i, u - m_i);
        bool ok = false;
        for (Dim d : {Dim::kSize, Dim::kBandwidth, Dim::kTime, Dim::kFrequency}) {
          const std::optional<Quantity> v = parse_quantity(q, d, nullptr);
          if (v && !v->cycles) {
            n->value.number = v->value;
            ok = true;
            break;
          }
        }
        if (!ok) error(at, fmt::format("'{}' is not a number or a quantity with a unit", q));
      } else {
        char* end = nullptr;
        n->value.number = std::strtod(num.c_str(), &end);
        if (end != num.c_str() + num.size()) error(at, fmt::format("'{}' is not a number", num));
      }
      m_i = u;
      return n;
    }
    if (c == '"') {
      size_t e = m_i + 1;
      while (e < m_s.size() && m_s[e] != '"') ++e;
      if (e >= m_s.size()) error(at, "unterminated string");
      n->kind = Node::Kind::kString;
      n->value.is_string = true;
      n->value.text = m_s.substr(m_i + 1, e - m_i - 1);
      m_i = e + 1;
      return n;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t e = m_i;
      while (e < m_s.size() &&
             (std::isalnum(static_cast<unsigned char>(m_s[e])) || m_s[e] == '_' || m_s[e] == '.')) {
        ++e;
      }
      const std::string name = m_s.substr(m_i, e - m_i);
      if (name.back() == '.') error(e - 1, "a name cannot end with '.'");
      m_i = e;
      if (name == "true" || name == "false") {
        n->kind = Node::Kind::kNumber;
        n->value.number = name == "true" ? 1 : 0;
        return n;
      }
      if (accept("(")) {
        if (name != "min" && name != "max" && name != "log2") {
          error(at, fmt::format("unknown function '{}' (known: min, max, log2)", name));
        }
        n->kind = Node::Kind::kCall;
        n->op = name;
        if (!accept(")")) {
          do {
            n->args.push_back(parse_or());
          } while (accept(","));
          if (!accept(")")) error(m_i, "expected ')' or ','");
        }
        const bool unary = name == "log2";
        if (unary ? n->args.size() != 1 : n->args.empty()) {
          error(at, fmt::format("{}() takes {}", name,
                                unary ? "one argument" : "one or more arguments"));
        }
        return n;
      }
      n->kind = Node::Kind::kName;
      n->op = name;
      m_names->emplace_back(name, at);
      return n;
    }
    error(at, fmt::format("unexpected '{}'", std::string(1, c)));
  }

  const std::string& m_s;
  size_t m_i = 0;
  std::vector<std::pair<std::string, size_t>>* m_names;
};

ExprValue number(double d) {
  ExprValue v;
  v.number = d;
  return v;
}

ExprValue eval_node(const Node& n, const ExprResolver& resolve) {
  switch (n.kind) {
    case Node::Kind::kNumber:
    case Node::Kind::kString:
      return n.value;
    case Node::Kind::kName: {
      std::optional<ExprValue> v = resolve(n.op);
      if (!v) error(n.offset, fmt::format("unknown name '{}'", n.op));
      return *v;
    }
    case Node::Kind::kUnary: {
      const ExprValue a = eval_node(*n.args[0], resolve);
      if (a.is_string) error(n.offset, fmt::format("'{}' needs a number, got a string", n.op));
      return number(n.op == "-" ? -a.number : (a.number == 0 ? 1 : 0));
    }
    case Node::Kind::kCall: {
      std::vector<double> xs;
      for (const auto& arg : n.args) {
        const ExprValue a = eval_node(*arg, resolve);
        if (a.is_string) error(arg->offset, fmt::format("{}() needs numbers, got a string", n.op));
        xs.push_back(a.number);
      }
      if (n.op == "log2") return number(std::log2(xs[0]));
      double r = xs[0];
      for (double x : xs) r = n.op == "min" ? std::min(r, x) : std::max(r, x);
      return number(r);
    }
    case Node::Kind::kBinary:
      break;
  }
  const std::string& op = n.op;
  const ExprValue a = eval_node(*n.args[0], resolve);
  if (op == "&&" || op == "||") {
    if (a.is_string) error(n.args[0]->offset, fmt::format("'{}' needs numbers, got a string", op));
    if (op == "&&" && a.number == 0) return number(0);
    if (op == "||" && a.number != 0) return number(1);
    const ExprValue b = eval_node(*n.args[1], resolve);
    if (b.is_string) error(n.args[1]->offset, fmt::format("'{}' needs numbers, got a string", op));
    return number(b.number != 0 ? 1 : 0);
  }
  const ExprValue b = eval_node(*n.args[1], resolve);
  if (op == "==" || op == "!=") {
    if (a.is_string != b.is_string) {
      error(n.offset, fmt::format("'{}' compares a string with a number", op));
    }
    const bool eq = a.is_string ? a.text == b.text : a.number == b.number;
    return number((op == "==") == eq ? 1 : 0);
  }
  if (a.is_string || b.is_string) {
    error(n.offset, fmt::format("'{}' needs numbers, got a string", op));
  }
  const double x = a.number, y = b.number;
  if (op == "+") return number(x + y);
  if (op == "-") return number(x - y);
  if (op == "*") return number(x * y);
  if (op == "/") return number(x / y);
  if (op == "<") return number(x < y ? 1 : 0);
  if (op == "<=") return number(x <= y ? 1 : 0);
  if (op == ">") return number(x > y ? 1 : 0);
  return number(x >= y ? 1 : 0);
}

}  // namespace

Expr Expr::parse(const std::string& text) {
  Expr e;
  Parser p(text, &e.m_names);
  e.m_root = p.parse();
  return e;
}

ExprValue Expr::eval(const ExprResolver& resolve) const {
  return eval_node(*m_root, resolve);
}

bool Expr::holds(const ExprResolver& resolve) const {
  const ExprValue v = eval(resolve);
  if (v.is_string) error(0, "a constraint must give a number or a comparison, not a string");
  return v.number != 0;
}

}  // namespace moesim::sweep
