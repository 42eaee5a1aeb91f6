/*!
 * \file tvm_extend/ir/binding.cc
 * \brief Binding an extension's views and global function handles to the running TVM, the
 *        record of what it uses, and the functors' walk by reflection.
 *
 * Compiled once per build folder (tvm_extend_add_extension() adds it as a static library that
 * every extension links, hidden), instead of in every translation unit that includes the views.
 */
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/view.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace ir {

struct BindState;
static void BindGlobalFunctions(BindState& state);
static void RecordGlobalFunctions(std::string& out);

/*! \brief The running TVM's version, for messages; empty when unknown. */
std::string RunningTVMVersionForMessages() {
  std::optional<tvm::ffi::Function> f = tvm::ffi::Function::GetGlobal("tvm_extend.RunningVersions");
  if (!f.has_value()) return "(unknown)";
  return (*f)()
      .cast<tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>>()["tvm"]
      .cast<tvm::ffi::String>();
}

[[noreturn]] void SchemaError(const std::string& what) {
  throw tvm::ffi::Error(error_kind::kSchema,
                        "the running TVM " + RunningTVMVersionForMessages() +
                            " does not match the IR schema this extension was built with: " + what,
                        "");
}

/*! \brief `key` under the name of the newest supported release (tvm_extend/ir/renames.h). */
std::string_view CanonicalName(std::string_view key) {
  for (const auto& pair : kKnownRenames) {
    if (key == pair[1]) return pair[0];
  }
  return key;
}

/*! \brief A JSON schema with every type name in it written as CanonicalName does. */
std::string CanonicalSchema(std::string_view schema) {
  std::string out;
  size_t i = 0;
  while (i < schema.size()) {
    size_t open = schema.find('"', i);
    if (open == std::string_view::npos) break;
    size_t close = schema.find('"', open + 1);
    if (close == std::string_view::npos) break;
    out.append(schema.substr(i, open + 1 - i));
    out.append(CanonicalName(schema.substr(open + 1, close - open - 1)));
    out.push_back('"');
    i = close + 1;
  }
  out.append(schema.substr(i));
  return out;
}

const TVMFFITypeInfo* LookupType(std::string_view type_key, int32_t* index) {
  TVMFFIByteArray key{type_key.data(), type_key.size()};
  if (TVMFFITypeKeyToIndex(&key, index) != 0) {
    (void)tvm::ffi::detail::MoveFromSafeCallRaised();
    return nullptr;
  }
  return TVMFFIGetTypeInfo(*index);
}

/*! \brief The type under `type_key` or a known other name of it; `bound` gets the name found. */
const TVMFFITypeInfo* LookupTypeByConcept(std::string_view type_key, int32_t* index,
                                          std::string_view* bound) {
  for (std::string_view name : NamesOf(type_key)) {
    if (const TVMFFITypeInfo* info = LookupType(name, index)) {
      if (bound != nullptr) *bound = name;
      return info;
    }
  }
  return nullptr;
}

/*! \brief The type's `type_schema` string of a field, as found in its JSON metadata. */
std::string FieldSchema(const TVMFFIFieldInfo& f) {
  std::string_view meta = AsView(f.metadata);
  constexpr std::string_view kKey = "\"type_schema\":";
  size_t at = meta.find(kKey);
  if (at == std::string_view::npos) return "";
  // The value is a JSON string holding the schema; unescape its quotes.
  size_t begin = meta.find('"', at + kKey.size());
  std::string out;
  for (size_t i = begin + 1; i < meta.size(); ++i) {
    if (meta[i] == '\\' && i + 1 < meta.size()) {
      out.push_back(meta[++i]);
    } else if (meta[i] == '"') {
      break;
    } else {
      out.push_back(meta[i]);
    }
  }
  return out;
}

/*! \brief A field of the type or of one of its ancestors, by name; nullptr when none. */
const TVMFFIFieldInfo* FindField(const TVMFFITypeInfo* info, std::string_view name) {
  for (int32_t depth = info->type_depth; depth >= 0; --depth) {
    const TVMFFITypeInfo* t = depth == info->type_depth ? info : info->type_ancestors[depth];
    for (int32_t i = 0; i < t->num_fields; ++i) {
      if (AsView(t->fields[i].name) == name) return &t->fields[i];
    }
  }
  return nullptr;
}

/*! \brief What binding found wrong, every problem at once, and the types that the functors walk
 *         by reflection because a weak use did not bind. */
struct BindState {
  std::vector<std::string> problems;
  std::vector<std::string> generic_types;  // keys as the running TVM names them
  // Strongly used types the running TVM lacks -> index of their problem, which then names the
  // fields that cannot bind either.
  std::vector<std::pair<std::string, size_t>> missing_types;
};

/*! \brief Whether the running type `info` is `ancestor` or derives from it. */
bool DerivesFrom(const TVMFFITypeInfo* info, int32_t ancestor) {
  if (info->type_index == ancestor) return true;
  for (int32_t d = 0; d < info->type_depth; ++d) {
    if (info->type_ancestors[d]->type_index == ancestor) return true;
  }
  return false;
}

static void BindTypes(BindState& state) {
  std::vector<TypeSlot*> strong, all;
  for (const SlotUse& use : TypeUses()) {
    auto* slot = static_cast<TypeSlot*>(use.slot);
    if (std::find(all.begin(), all.end(), slot) == all.end()) all.push_back(slot);
    if (use.strong) strong.push_back(slot);
  }
  for (TypeSlot* slot : all) {
    if (slot->type_depth >= 0 || slot->absent) continue;  // bound before
    bool is_strong = std::find(strong.begin(), strong.end(), slot) != strong.end();
    int32_t index = -1;
    std::string_view bound;
    const TVMFFITypeInfo* info = LookupTypeByConcept(slot->type_key, &index, &bound);
    if (info == nullptr) {
      if (is_strong) {
        std::string names;
        for (std::string_view n : NamesOf(slot->type_key)) {
          names += (names.empty() ? "`" : " or `") + std::string(n) + "`";
        }
        state.missing_types.emplace_back(slot->type_key, state.problems.size());
        state.problems.push_back("it has no IR node type " + names);
      } else {
        slot->absent = true;
      }
      continue;
    }
    if (slot->parent_key[0] != '\0') {
      // The parent must be the one built against (or a known other name of it), unless the
      // running TVM does not have that parent at all (a newer release added a level).
      std::string_view parent = info->type_depth > 0
                                    ? AsView(info->type_ancestors[info->type_depth - 1]->type_key)
                                    : std::string_view("");
      int32_t parent_index = -1;
      const TVMFFITypeInfo* expected = LookupTypeByConcept(slot->parent_key, &parent_index);
      bool ok = CanonicalName(parent) == CanonicalName(slot->parent_key) || (expected == nullptr) ||
                (expected != nullptr && DerivesFrom(info, parent_index));
      if (!ok && is_strong) {
        state.problems.push_back("`" + std::string(bound) + "` derives from `" +
                                 std::string(parent) + "`, but the extension was built for a `" +
                                 slot->type_key + "` that derives from `" + slot->parent_key + "`");
        continue;
      }
    }
    slot->type_index = index;
    slot->type_depth = info->type_depth;
    slot->bound_key = info->type_key.data;
  }
}

static void BindFields(BindState& state) {
  std::vector<FieldSlot*> strong, all;
  for (const SlotUse& use : FieldUses()) {
    auto* slot = static_cast<FieldSlot*>(use.slot);
    if (std::find(all.begin(), all.end(), slot) == all.end()) all.push_back(slot);
    if (use.strong) strong.push_back(slot);
  }
  for (FieldSlot* slot : all) {
    if (slot->offset >= 0) continue;  // bound before
    bool is_strong = std::find(strong.begin(), strong.end(), slot) != strong.end();
    int32_t index = -1;
    std::string_view bound;
    const TVMFFITypeInfo* info = LookupTypeByConcept(slot->type_key, &index, &bound);
    std::string where = "`" + std::string(slot->type_key) + "." + slot->name + "`";
    if (info == nullptr) {
      // A weak field of a type the running TVM does not have is never read.
      if (is_strong) {
        auto missing = std::find_if(state.missing_types.begin(), state.missing_types.end(),
                                    [&](const auto& m) { return m.first == slot->type_key; });
        if (missing != state.missing_types.end()) {
          std::string& problem = state.problems[missing->second];
          problem += (problem.find(", so ") == std::string::npos ? ", so its field(s) " : ", ");
          problem += slot->name;
        } else {
          state.problems.push_back(where + ": it has no IR node type `" + slot->type_key + "`");
        }
      }
      continue;
    }
    const TVMFFIFieldInfo* found = FindField(info, slot->name);
    std::string problem;
    if (found == nullptr) {
      problem = where + " does not exist (expected a field of type " + slot->type_schema + ")";
    } else {
      std::string schema = FieldSchema(*found);
      // An integer stored as `int` in one release and as `ffi.BigInt` in another (IntImm.value):
      // the field getter reads both.
      bool integer = (schema == R"({"type":"int"})" || schema == R"({"type":"ffi.BigInt"})") &&
                     (std::string_view(slot->type_schema) == R"({"type":"int"})" ||
                      std::string_view(slot->type_schema) == R"({"type":"ffi.BigInt"})");
      if (integer && schema != slot->type_schema) {
        slot->via_getter = true;
      } else if (CanonicalSchema(schema) != CanonicalSchema(slot->type_schema) ||
                 found->size != slot->size) {
        problem = where + " has type " + schema + " (" + std::to_string(found->size) +
                  " bytes), but the extension expects " + slot->type_schema + " (" +
                  std::to_string(slot->size) + " bytes)";
      }
    }
    if (!problem.empty()) {
      if (is_strong) {
        state.problems.push_back(problem);
      } else {
        state.generic_types.emplace_back(bound);
      }
      continue;
    }
    slot->offset = found->offset;
    slot->getter = found->getter;
  }
}

/*! \brief Marks the dispatched types the functors must walk by reflection. */
static void MarkGenericTypes(const BindState& state) {
  for (const SlotUse& use : TypeUses()) {
    auto* slot = static_cast<TypeSlot*>(use.slot);
    if (slot->known_fields == nullptr || slot->type_depth < 0) continue;
    const TVMFFITypeInfo* info = TVMFFIGetTypeInfo(slot->type_index);
    // A field the generated code did not know (e.g. an Expr a newer TVM added) or one whose
    // binding failed (on the type or an ancestor): children are found by reflection.
    for (const std::string& key : state.generic_types) {
      int32_t index = -1;
      if (LookupType(key, &index) != nullptr && DerivesFrom(info, index)) slot->generic = true;
    }
    std::string_view known = slot->known_fields;
    for (int32_t depth = 0; depth <= info->type_depth && !slot->generic; ++depth) {
      const TVMFFITypeInfo* t = depth == info->type_depth ? info : info->type_ancestors[depth];
      for (int32_t i = 0; i < t->num_fields; ++i) {
        std::string_view name = AsView(t->fields[i].name);
        bool listed = false;
        for (size_t at = 0; at <= known.size();) {
          size_t comma = known.find(',', at);
          if (comma == std::string_view::npos) comma = known.size();
          if (known.substr(at, comma - at) == name) listed = true;
          at = comma + 1;
        }
        if (!listed) slot->generic = true;
      }
    }
    // A field the generated code knows that the running type lacks.
    for (size_t at = 0; at < known.size() && !slot->generic;) {
      size_t comma = known.find(',', at);
      if (comma == std::string_view::npos) comma = known.size();
      if (FindField(info, known.substr(at, comma - at)) == nullptr) slot->generic = true;
      at = comma + 1;
    }
  }
}

/*!
 * \brief Resolve every used type, field and global function against the running TVM.
 *        Idempotent (a slot bound before stays bound).
 * \throws tvm::ffi::Error of kind "SchemaError" listing every problem at once: the type, the
 *         field or function, what was expected, what was found, and the TVM version.
 */
void BindSchema() {
  BindState state;
  BindTypes(state);
  BindFields(state);
  for (const auto& [key, at] : state.missing_types) {
    if (state.problems[at].find(", so its field(s) ") != std::string::npos) {
      state.problems[at] += " cannot bind";
    }
  }
  BindGlobalFunctions(state);
  if (!state.problems.empty()) {
    std::string all;
    for (size_t i = 0; i < state.problems.size(); ++i) {
      all += (state.problems.size() > 1 ? "\n  " + std::to_string(i + 1) + ". " : "") +
             state.problems[i];
    }
    SchemaError(state.problems.size() > 1
                    ? std::to_string(state.problems.size()) + " problems:" + all
                    : all);
  }
  MarkGenericTypes(state);
}

/*! \brief A JSON string literal. */
static std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

/*! \brief JSON of `[name, other names...]`. */
static std::string JsonAlternatives(std::string_view key) {
  std::string out = "[";
  std::vector<std::string_view> names = NamesOf(key);
  for (size_t i = 1; i < names.size(); ++i) out += (i > 1 ? "," : "") + JsonString(names[i]);
  return out + "]";
}

/*! \brief What this library uses of TVM's IR, as JSON (see TVMExtendUsedSchema). */
std::string UsedSchemaJson() {
  auto strong_of = [](const std::vector<SlotUse>& uses, void* slot) {
    for (const SlotUse& u : uses) {
      if (u.slot == slot && u.strong) return true;
    }
    return false;
  };
  std::string out = "{\"types\":[";
  std::vector<void*> seen;
  for (const SlotUse& use : TypeUses()) {
    if (std::find(seen.begin(), seen.end(), use.slot) != seen.end()) continue;
    seen.push_back(use.slot);
    auto* s = static_cast<TypeSlot*>(use.slot);
    out += std::string(seen.size() > 1 ? "," : "") + "{\"key\":" + JsonString(s->type_key) +
           ",\"alternatives\":" + JsonAlternatives(s->type_key) +
           ",\"parent\":" + JsonString(s->parent_key) +
           ",\"weak\":" + (strong_of(TypeUses(), use.slot) ? "false" : "true") + "}";
  }
  out += "],\"fields\":[";
  seen.clear();
  for (const SlotUse& use : FieldUses()) {
    if (std::find(seen.begin(), seen.end(), use.slot) != seen.end()) continue;
    seen.push_back(use.slot);
    auto* s = static_cast<FieldSlot*>(use.slot);
    out += std::string(seen.size() > 1 ? "," : "") + "{\"type\":" + JsonString(s->type_key) +
           ",\"name\":" + JsonString(s->name) + ",\"schema\":" + JsonString(s->type_schema) +
           ",\"size\":" + std::to_string(s->size) +
           ",\"weak\":" + (strong_of(FieldUses(), use.slot) ? "false" : "true") + "}";
  }
  out += "],\"globals\":[";
  std::string globals;
  RecordGlobalFunctions(globals);
  return out + globals + "]}";
}

/*! \brief Whether schema type `actual` may stand where `expected` is: equal, or a subtype. */
bool SameOrSubtype(const std::string& actual, const std::string& expected) {
  if (actual == expected || CanonicalName(actual) == CanonicalName(expected)) return true;
  // A C++ integer converts to and from TVM's arbitrary-precision integers.
  if ((actual == "int" && expected == "ffi.BigInt") ||
      (actual == "ffi.BigInt" && expected == "int")) {
    return true;
  }
  // Functions typed with std::string take and return tvm-ffi strings.
  auto is_string = [](const std::string& t) { return t == "ffi.String" || t == "std::string"; };
  if (is_string(actual) && is_string(expected)) return true;
  int32_t a = -1, e = -1;
  const TVMFFITypeInfo* ai = LookupTypeByConcept(actual, &a);
  const TVMFFITypeInfo* ei = LookupTypeByConcept(expected, &e);
  if (ai == nullptr || ei == nullptr) return false;
  return ai->type_depth > ei->type_depth && ai->type_ancestors[ei->type_depth]->type_index == e;
}

/*! \brief The "type" of each object directly inside the JSON list that opens at `open`. */
static std::vector<std::string> ListTypes(const std::string& json, size_t open) {
  std::vector<std::string> out;
  int depth = 0;
  for (size_t i = open; i < json.size(); ++i) {
    char c = json[i];
    if (c == '[' || c == '{') {
      if (++depth == 2 && c == '{') {
        size_t begin = json.find("\"type\":\"", i) + 8;
        std::string type = json.substr(begin, json.find('"', begin) - begin);
        if (type == "Optional") {  // Optional[T] takes a T (or nothing)
          size_t inner = json.find("\"type\":\"", begin) + 8;
          type = json.substr(inner, json.find('"', inner) - inner);
        }
        out.push_back(type);
      }
    } else if ((c == ']' || c == '}') && --depth == 0) {
      break;
    }
  }
  return out;
}

/*!
 * \brief Return and parameter types of a function's type_schema, or nothing when TVM
 *        registered it without a signature (a packed function: only its existence is checked).
 *        Both schema forms are read: {"args":[ret, params...]} and
 *        {"named_args":{"return":[ret],"params":[...]}}.
 */
std::vector<std::string> SchemaTypes(const std::string& schema) {
  size_t named = schema.find("\"named_args\"");
  if (named != std::string::npos) {
    std::vector<std::string> ret = ListTypes(schema, schema.find('[', schema.find("\"return\"")));
    std::vector<std::string> params =
        ListTypes(schema, schema.find('[', schema.find("\"params\"")));
    ret.resize(1);
    ret.insert(ret.end(), params.begin(), params.end());
    return ret;
  }
  size_t args = schema.find("\"args\"");
  if (args == std::string::npos) return {};
  return ListTypes(schema, schema.find('[', args));
}

std::string JoinSignature(const std::vector<std::string>& types) {
  std::string out = "(";
  for (size_t i = 1; i < types.size(); ++i) {
    out += (i > 1 ? ", " : "") + (types[i].empty() ? std::string("Any") : types[i]);
  }
  return out + ") -> " + (types.empty() || types[0].empty() ? std::string("Any") : types[0]);
}

/*! \brief Look up and check one handle; the problem, or "" when it binds. */
static std::string TryBindGlobalFunction(GlobalFunctionSlot* slot) {
  static const tvm::ffi::Function metadata =
      abi::RequireGlobal("ffi.GetGlobalFuncMetadata", "tvm_extend::ir::GlobalFunction");
  std::optional<tvm::ffi::Function> f;
  std::string found;
  for (std::string_view name : NamesOf(slot->name)) {
    f = tvm::ffi::Function::GetGlobal(name);
    if (f.has_value()) {
      found = std::string(name);
      break;
    }
  }
  if (!f.has_value()) {
    std::string names;
    for (std::string_view n : NamesOf(slot->name)) {
      names += (names.empty() ? "`" : " or `") + std::string(n) + "`";
    }
    return "it has no global function " + names + " (expected " + JoinSignature(slot->expected) +
           ")";
  }
  std::string meta = metadata(tvm::ffi::String(found)).cast<tvm::ffi::String>();
  size_t at = meta.find("\"type_schema\":");
  if (at != std::string::npos) {
    // The schema is a JSON string inside the metadata JSON: unescape it.
    std::string schema;
    for (size_t i = meta.find('"', at + 14) + 1; i < meta.size() && meta[i] != '"'; ++i) {
      if (meta[i] == '\\' && i + 1 < meta.size()) ++i;
      schema.push_back(meta[i]);
    }
    std::vector<std::string> actual = SchemaTypes(schema);
    bool ok = actual.empty() || actual.size() == slot->expected.size();
    for (size_t i = 0; ok && !actual.empty() && i < actual.size(); ++i) {
      const std::string& want = slot->expected[i];
      // The return value may be more specific than expected; a parameter may be more general.
      ok = want.empty() || actual[i] == "Any" ||
           (i == 0 ? SameOrSubtype(actual[i], want) : SameOrSubtype(want, actual[i]));
    }
    if (!ok) {
      return "global function `" + found + "` has signature " + JoinSignature(actual) +
             ", but the extension calls it as " + JoinSignature(slot->expected);
    }
  }
  slot->function = *f;
  return "";
}

/*! \brief Look up and check one handle on its first use outside the loader; throws. */
void BindGlobalFunction(GlobalFunctionSlot* slot) {
  std::string problem = TryBindGlobalFunction(slot);
  if (!problem.empty()) SchemaError(problem);
}

/*! \brief The binding step: every handle of this library, problems collected. */
static void BindGlobalFunctions(BindState& state) {
  std::vector<GlobalFunctionSlot*> slots;
  {
    std::lock_guard<std::mutex> lock(GlobalFunctionSlot::SlotsMutex());
    slots = GlobalFunctionSlots();
  }
  for (GlobalFunctionSlot* slot : slots) {
    if (slot->function.defined()) continue;
    std::string problem = TryBindGlobalFunction(slot);
    if (problem.empty()) continue;
    if (slot->weak_type_key != nullptr) {
      // A constructor only the functors use: fine if the type is missing too; otherwise its
      // nodes are rebuilt by reflection.
      int32_t index = -1;
      std::string_view bound;
      if (LookupTypeByConcept(slot->weak_type_key, &index, &bound) != nullptr) {
        state.generic_types.emplace_back(bound);
      }
      continue;
    }
    state.problems.push_back(problem);
  }
}

/*! \brief The global functions of this library, for the record of what it uses. */
static void RecordGlobalFunctions(std::string& out) {
  std::lock_guard<std::mutex> lock(GlobalFunctionSlot::SlotsMutex());
  bool first = true;
  for (GlobalFunctionSlot* slot : GlobalFunctionSlots()) {
    out += std::string(first ? "" : ",") + "{\"name\":" + JsonString(slot->name) +
           ",\"alternatives\":" + JsonAlternatives(slot->name) + ",\"signature\":[";
    for (size_t i = 0; i < slot->expected.size(); ++i) {
      out += (i ? "," : "") + JsonString(slot->expected[i]);
    }
    out += std::string("],\"weak\":") + (slot->weak_type_key ? "true" : "false") + "}";
    first = false;
  }
}

ChildField GenericChildren::Classify(const TVMFFIFieldInfo& f) const {
  thread_local std::vector<std::pair<const TVMFFIFieldInfo*, ChildField>> cache;
  for (const auto& [field, kind] : cache) {
    if (field == &f) return kind;
  }
  ChildField c;
  std::string schema = FieldSchema(f);
  // The outer type, and the element type of an Optional or an Array (two levels at most).
  std::vector<std::string> types;
  for (size_t at = schema.find("\"type\":\""); at != std::string::npos && types.size() < 3;
       at = schema.find("\"type\":\"", at + 8)) {
    size_t begin = at + 8;
    types.push_back(schema.substr(begin, schema.find('"', begin) - begin));
  }
  size_t k = 0;
  if (k < types.size() && types[k] == "Optional") ++k;
  if (k < types.size() && types[k] == "ffi.Array") {
    c.list = true;
    ++k;
  }
  if (k < types.size()) {
    int32_t index = -1;
    if (const TVMFFITypeInfo* info = LookupType(types[k], &index)) {
      if (DerivesFrom(info, var_.type_index)) {
        c.kind = ChildField::kNone;  // a definition, or a buffer
      } else if (DerivesFrom(info, expr_.type_index)) {
        c.kind = ChildField::kExpr;
      } else if (DerivesFrom(info, stmt_.type_index)) {
        c.kind = ChildField::kStmt;
      } else {
        for (const char* aux : {"ir.Range", "tirx.IterVar", "s_tir.MatchBufferRegion",
                                "ir.TensorRegion", "tirx.BufferRegion"}) {
          for (std::string_view name : NamesOf(aux)) {
            if (types[k] == name) c.kind = ChildField::kAux;
          }
        }
      }
    }
  }
  cache.emplace_back(&f, c);
  return c;
}

tvm::ffi::ObjectRef GenericChildren::Map(const tvm::ffi::ObjectRef& node, Callback on_expr,
                                         Callback on_stmt, void* context) const {
  const TVMFFITypeInfo* info = TVMFFIGetTypeInfo(node->type_index());
  std::vector<std::pair<int64_t, tvm::ffi::ObjectRef>> changes;
  for (int32_t depth = 0; depth <= info->type_depth; ++depth) {
    const TVMFFITypeInfo* t = depth == info->type_depth ? info : info->type_ancestors[depth];
    for (int32_t i = 0; i < t->num_fields; ++i) {
      const TVMFFIFieldInfo& f = t->fields[i];
      ChildField c = Classify(f);
      if (c.kind == ChildField::kNone || f.size != 8) continue;
      const auto& value = *reinterpret_cast<const tvm::ffi::ObjectRef*>(
          reinterpret_cast<const char*>(node.get()) + f.offset);
      if (!value.defined()) continue;
      auto one = [&](const tvm::ffi::ObjectRef& x) -> tvm::ffi::ObjectRef {
        if (c.kind == ChildField::kExpr) return on_expr(context, x);
        if (c.kind == ChildField::kStmt) return on_stmt(context, x);
        return Map(x, on_expr, on_stmt, context);
      };
      tvm::ffi::ObjectRef after;
      if (c.list) {
        tvm::ffi::Array<tvm::ffi::ObjectRef> before(
            tvm::ffi::detail::ObjectUnsafe::ObjectPtrFromObjectRef<tvm::ffi::Object>(value));
        tvm::ffi::Array<tvm::ffi::ObjectRef> out;
        bool changed = false;
        for (const tvm::ffi::ObjectRef& x : before) {
          tvm::ffi::ObjectRef y = x.defined() ? one(x) : x;
          changed = changed || !y.same_as(x);
          out.push_back(y);
        }
        after = changed ? tvm::ffi::ObjectRef(out) : value;
      } else {
        after = one(value);
        if (!after.defined()) NullResult(info->type_key.data, f.name.data);
      }
      if (!after.same_as(value)) changes.emplace_back(f.offset, std::move(after));
    }
  }
  if (changes.empty()) return node;
  tvm::ffi::ObjectRef copy = ShallowCopy(node);
  for (auto& [offset, value] : changes) {
    SetObjectField(const_cast<tvm::ffi::Object*>(copy.get()), offset, std::move(value));
  }
  return copy;
}

}  // namespace ir
}  // namespace tvm_extend

/*!
 * \brief What this extension library uses of TVM's IR, as JSON: the types, fields and global
 *        functions its code names, each with the other names it binds under and whether the
 *        use is weak (only the functors' dispatch). Touches nothing of TVM, so `tvm-extend doctor
 *        --compat` can read it without loading the extension. The string stays valid until the
 *        next call.
 */
extern "C" __attribute__((visibility("default"), used)) const char* TVMExtendUsedSchema(void) {
  static std::string json;
  json = ::tvm_extend::ir::UsedSchemaJson();
  return json.c_str();
}
