// Xml: a parsed SOAP or WS-Discovery message, read through libxml2 with the network,
// entity substitution and document type declarations all refused.
//
// Replies come from devices on the local network, which may be broken or hostile. Parse
// never crashes on any input; it refuses a text larger than kMaxXmlBytes, one that is not
// well-formed, and one that declares a document type (SOAP forbids DTDs, and refusing them
// keeps entity expansion, internal or external, out of reach). The finders match elements
// by local name, ignoring namespace prefixes, which devices spell as they please.
// A node pointer is valid while its Xml lives. Not thread-safe per object; separate
// objects may be used from separate threads.
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace custodian::onvif {

inline constexpr size_t kMaxXmlBytes = 1 << 20;

class Xml {
 public:
  // kInvalidArgument naming `what` ("the camera's reply") when the text is refused.
  static Result<Xml> Parse(std::string_view text, const std::string& what);

  const xmlNode* root() const;

 private:
  struct FreeDoc {
    void operator()(xmlDoc* doc) const;
  };
  std::unique_ptr<xmlDoc, FreeDoc> doc_;
};

// The first element child of `parent` with this local name, or nullptr.
const xmlNode* Child(const xmlNode* parent, std::string_view local_name);
// The first element below `from` (depth first, not `from` itself) with this local name.
const xmlNode* Descendant(const xmlNode* from, std::string_view local_name);
// Every element child of `parent` with this local name, in order.
std::vector<const xmlNode*> Children(const xmlNode* parent, std::string_view local_name);
// The text directly inside an element (text and CDATA children), whitespace-trimmed and
// cut at kMaxTextBytes; "" for nullptr.
inline constexpr size_t kMaxTextBytes = 4096;
std::string Text(const xmlNode* element);
// An attribute's value by local name, or "".
std::string Attribute(const xmlNode* element, std::string_view local_name);
// Whether the element's local name is this.
bool IsNamed(const xmlNode* element, std::string_view local_name);

// Text from a device made safe to show and log: printable ASCII only (others become '?'),
// at most max_bytes (a cut is marked with "...").
std::string Printable(std::string_view text, size_t max_bytes = 200);

// Text escaped for an XML element or attribute value.
std::string Escape(std::string_view text);

}  // namespace custodian::onvif
