#include "onvif/xml.h"

#include <libxml/parser.h>

#include <mutex>

namespace custodian::onvif {

namespace {

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == s.npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

const char* AsChars(const xmlChar* s) { return reinterpret_cast<const char*>(s); }

// libxml2 reports parse errors through a global handler by default; this one drops them,
// since the error is returned as a Status instead.
void IgnoreError(void*, xmlErrorPtr) {}

}  // namespace

void Xml::FreeDoc::operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }

Result<Xml> Xml::Parse(std::string_view text, const std::string& what) {
  if (text.size() > kMaxXmlBytes) {
    return InvalidArgument(what + " is larger than " + std::to_string(kMaxXmlBytes) + " bytes");
  }
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  xmlSetStructuredErrorFunc(nullptr, IgnoreError);  // per thread in libxml2
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (!ctxt) return Internal("cannot make an XML parser");
  // No XML_PARSE_NOENT (entities are not substituted), no DTD loading, no network.
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  xmlDoc* doc = xmlCtxtReadMemory(ctxt, text.data(), static_cast<int>(text.size()), "reply.xml",
                                  nullptr, options);
  const bool well_formed = ctxt->wellFormed != 0;
  xmlFreeParserCtxt(ctxt);
  Xml xml;
  xml.doc_.reset(doc);
  if (!doc || !well_formed || !xmlDocGetRootElement(doc)) {
    return InvalidArgument(what + " is not well-formed XML");
  }
  if (doc->intSubset || doc->extSubset) {
    return InvalidArgument(what + " declares a document type, which SOAP does not allow");
  }
  return xml;
}

const xmlNode* Xml::root() const { return xmlDocGetRootElement(doc_.get()); }

bool IsNamed(const xmlNode* element, std::string_view local_name) {
  return element && element->type == XML_ELEMENT_NODE && element->name &&
         local_name == AsChars(element->name);
}

const xmlNode* Child(const xmlNode* parent, std::string_view local_name) {
  if (!parent) return nullptr;
  for (const xmlNode* n = parent->children; n; n = n->next) {
    if (IsNamed(n, local_name)) return n;
  }
  return nullptr;
}

std::vector<const xmlNode*> Children(const xmlNode* parent, std::string_view local_name) {
  std::vector<const xmlNode*> out;
  if (!parent) return out;
  for (const xmlNode* n = parent->children; n; n = n->next) {
    if (IsNamed(n, local_name)) out.push_back(n);
  }
  return out;
}

const xmlNode* Descendant(const xmlNode* from, std::string_view local_name) {
  if (!from) return nullptr;
  // Iterative, so that a deeply nested reply cannot exhaust the stack.
  const xmlNode* n = from->children;
  while (n) {
    if (IsNamed(n, local_name)) return n;
    if (n->children && n->type == XML_ELEMENT_NODE) {
      n = n->children;
      continue;
    }
    while (n && !n->next) {
      n = n->parent;
      if (n == from) return nullptr;
    }
    if (n) n = n->next;
  }
  return nullptr;
}

std::string Text(const xmlNode* element) {
  std::string out;
  if (!element) return out;
  for (const xmlNode* n = element->children; n && out.size() < kMaxTextBytes; n = n->next) {
    if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content) {
      out += AsChars(n->content);
    }
  }
  if (out.size() > kMaxTextBytes) out.resize(kMaxTextBytes);
  return std::string(Trim(out));
}

std::string Attribute(const xmlNode* element, std::string_view local_name) {
  if (!element || element->type != XML_ELEMENT_NODE) return "";
  for (const xmlAttr* a = element->properties; a; a = a->next) {
    if (a->name && local_name == AsChars(a->name)) {
      std::string out;
      for (const xmlNode* n = a->children; n; n = n->next) {
        if (n->type == XML_TEXT_NODE && n->content) out += AsChars(n->content);
      }
      if (out.size() > kMaxTextBytes) out.resize(kMaxTextBytes);
      return std::string(Trim(out));
    }
  }
  return "";
}

std::string Printable(std::string_view text, size_t max_bytes) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max_bytes) {
      out += "...";
      break;
    }
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace custodian::onvif
