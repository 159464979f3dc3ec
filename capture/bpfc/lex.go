package bpfc

import (
	"fmt"
	"strings"
)

// tokKind is a lexical token's kind.
type tokKind uint8

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tNot
	tAnd
	tOr
	tSlash
	tWord // keyword, number, address or name
	tOp   // an operator of libpcap's arithmetic syntax, outside the subset
)

// token is one lexical token; pos is its byte offset in the expression.
type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) String() string {
	if t.kind == tEOF {
		return "end of expression"
	}
	return fmt.Sprintf("%q", t.text)
}

// isWordByte reports whether c can be part of a word: libpcap's ID, NUM,
// HID and HID6 tokens are all made of these.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-'
}

// lex splits expr into tokens. Operators of libpcap's arithmetic syntax
// (tcp[13] & 2 != 0, len > 100) are outside the subset.
func lex(expr string) ([]token, error) {
	var toks []token
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", i})
			i++
		case c == '/':
			toks = append(toks, token{tSlash, "/", i})
			i++
		case c == '!' && !strings.HasPrefix(expr[i:], "!="):
			toks = append(toks, token{tNot, "!", i})
			i++
		case strings.HasPrefix(expr[i:], "&&"):
			toks = append(toks, token{tAnd, "&&", i})
			i += 2
		case strings.HasPrefix(expr[i:], "||"):
			toks = append(toks, token{tOr, "||", i})
			i += 2
		case isWordByte(c):
			j := i
			for j < len(expr) && isWordByte(expr[j]) {
				j++
			}
			toks = append(toks, word(expr[i:j], i))
			i = j
		case strings.IndexByte("[]<>=!&|+*%^\\", c) >= 0:
			op := expr[i : i+1]
			if i+1 < len(expr) && strings.IndexByte("=<>", expr[i+1]) >= 0 {
				op = expr[i : i+2]
			}
			toks = append(toks, token{tOp, op, i})
			i += len(op)
		default:
			return nil, fmt.Errorf("syntax error: illegal character %q at offset %d", c, i)
		}
	}
	return append(toks, token{tEOF, "", len(expr)}), nil
}

// word turns and/or/not into operator tokens.
func word(w string, pos int) token {
	switch w {
	case "and":
		return token{tAnd, w, pos}
	case "or":
		return token{tOr, w, pos}
	case "not":
		return token{tNot, w, pos}
	}
	return token{tWord, w, pos}
}

// keywords are libpcap's reserved words outside the subset (scanner.l of
// libpcap 1.10): an expression using one is unsupported, not malformed.
var keywords = map[string]bool{
	"link": true, "ether": true, "ppp": true, "slip": true, "fddi": true, "tr": true, "wlan": true,
	"arp": true, "rarp": true, "udp": true, "sctp": true, "icmp": true, "icmp6": true, "igmp": true,
	"igrp": true, "pim": true, "vrrp": true, "carp": true, "ah": true, "esp": true, "radio": true,
	"atalk": true, "aarp": true, "decnet": true, "lat": true, "sca": true, "moprc": true, "mopdl": true,
	"iso": true, "esis": true, "es-is": true, "isis": true, "is-is": true, "l1": true, "l2": true,
	"iih": true, "lsp": true, "snp": true, "csnp": true, "psnp": true, "clnp": true, "stp": true,
	"ipx": true, "netbeui": true, "gateway": true, "proto": true, "protochain": true, "broadcast": true,
	"multicast": true, "less": true, "greater": true, "byte": true, "len": true, "inbound": true,
	"outbound": true, "ifindex": true, "mpls": true, "pppoed": true, "pppoes": true, "geneve": true,
	"lane": true, "llc": true, "metac": true, "bcc": true, "oam": true, "oamf4": true, "oamf4ec": true,
	"oamf4sc": true, "sc": true, "ilmic": true, "vpi": true, "vci": true, "connectmsg": true,
	"metaconnect": true, "on": true, "ifname": true, "rnr": true, "rulenum": true, "reason": true,
	"rset": true, "ruleset": true, "srnr": true, "subrulenum": true, "action": true, "fisu": true,
	"lssu": true, "lsu": true, "sio": true, "opc": true, "dpc": true, "sls": true, "hfisu": true,
	"hlssu": true, "hlsu": true, "hsio": true, "hopc": true, "hdpc": true, "hsls": true, "type": true,
	"subtype": true, "direction": true, "dir": true, "address1": true, "addr1": true, "address2": true,
	"addr2": true, "address3": true, "addr3": true, "address4": true, "addr4": true, "ra": true,
	"ta": true, "mask": true, "host": true, "net": true, "port": true, "portrange": true, "src": true,
	"dst": true, "ip": true, "ip6": true, "tcp": true, "vlan": true,
}

// isKeyword reports whether w is one of libpcap's reserved words.
func isKeyword(w string) bool { return keywords[w] }
