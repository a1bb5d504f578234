// Who a request comes from: the trusted-proxy rule of `--trusted-proxies`, as pure functions.
import { describe, expect, test } from 'bun:test'
import { addressIn, CIDR_PATTERN, clientOfArrival, limitedAs, parseAddress, type Arrival } from '../../src/auth/client-address'

const cidr = new RegExp(CIDR_PATTERN)

describe('hardening 11: --trusted-proxies, the rule', () => {
  describe('CIDR_PATTERN: what the flag accepts', () => {
    test.each([
      '127.0.0.0/8', '10.0.0.0/8', '192.168.1.7', '0.0.0.0/0', '255.255.255.255/32',
      '::1/128', '::1', '::', '::/0', 'fd00::/8', '2001:db8::/32', '2001:db8:0:0:1:2:3:4', '1:2:3:4:5:6:7::', '::ffff:10.0.0.0/104',
      '64:ff9b::192.0.2.1', '1:2:3:4:5:6:1.2.3.4', 'FE80::1/10',
    ])('%p is a block', (value) => expect(cidr.test(value)).toBe(true))

    test.each([
      '', '10.0.0.0/33', '256.0.0.1', '10.0.0', '10.0.0.0/', '01.2.3.4', '::1/129', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::',
      'localhost', '10.0.0.0/8 ', 'fe80::1%eth0', '1:2:3:4:5:6:7:1.2.3.4',
    ])('%p is not', (value) => expect(cidr.test(value)).toBe(false))
  })

  describe('parseAddress: one text per address', () => {
    test.each([
      ['192.0.2.1', '192.0.2.1'],
      [' 192.0.2.1 ', '192.0.2.1'],
      ['192.0.2.1:8080', '192.0.2.1'],
      ['::ffff:192.0.2.1', '192.0.2.1'],
      ['::FFFF:c000:0201', '192.0.2.1'],
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['[2001:db8::1]:443', '2001:db8::1'],
      ['[::1]', '::1'],
      ['fe80::1%eth0', 'fe80::1'],
      ['2001:0db8:0000:0001:0000:0000:0000:0001', '2001:db8:0:1::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
      ['::', '::'],
    ])('%p → %p', (text, canonical) => expect(parseAddress(text)?.text).toBe(canonical))

    test.each(['unknown', '', 'vai_abc', '1.2.3', 'not an address', '999.1.1.1'])('%p → null', (text) => {
      expect(parseAddress(text)).toBeNull()
    })
  })

  describe('addressIn', () => {
    const trusted = addressIn(['127.0.0.0/8', '::1/128', '10.1.0.0/16', '2001:db8:aa00::/40', '192.0.2.7'])
    test.each([
      ['127.0.0.1', true], ['127.255.0.9', true], ['::ffff:127.0.0.1', true], ['::1', true], ['::2', false],
      ['10.1.200.3', true], ['10.2.0.1', false], ['2001:db8:aaff::1', true], ['2001:db8:ab00::1', false],
      ['192.0.2.7', true], ['192.0.2.8', false], ['128.0.0.1', false],
    ])('%p → %p', (address, inside) => expect(trusted(parseAddress(address)!.bytes)).toBe(inside))

    test('no block trusts nothing', () => expect(addressIn([])(parseAddress('127.0.0.1')!.bytes)).toBe(false))
  })

  describe('clientOfArrival', () => {
    const trusted = addressIn(['127.0.0.0/8', '::1/128', '10.0.0.0/8'])
    const arrival = (changes: Partial<Arrival>): Arrival => ({
      peer: '127.0.0.1', https: false, host: 'vai.example.com', forwardedFor: null, forwardedProto: null, forwardedHost: null, ...changes,
    })

    test.each([
      ['a direct client: its own address', { peer: '203.0.113.9' }, { address: '203.0.113.9', https: false, host: 'vai.example.com' }],
      ['a trusted peer that forwards nothing: itself', {}, { address: '127.0.0.1', https: false, host: 'vai.example.com' }],
      ['a Host in capitals', { host: 'VAI.example.com:8080' }, { address: '127.0.0.1', https: false, host: 'vai.example.com:8080' }],
      ['an untrusted peer\'s forwarded headers count for nothing', {
        peer: '203.0.113.9', forwardedFor: '198.51.100.1', forwardedProto: 'https', forwardedHost: 'evil.example',
      }, { address: '203.0.113.9', https: false, host: 'vai.example.com' }],
      ['behind a trusted proxy: the address it forwarded for, its scheme and host', {
        forwardedFor: '198.51.100.1', forwardedProto: 'https', forwardedHost: 'Vai.Example.com',
      }, { address: '198.51.100.1', https: true, host: 'vai.example.com' }],
      ['a forged X-Forwarded-For entry left of the real one is not believed', {
        forwardedFor: '6.6.6.6, 198.51.100.1',
      }, { address: '198.51.100.1', https: false, host: 'vai.example.com' }],
      ['two trusted proxies: the right-most entry that is not one', {
        forwardedFor: '6.6.6.6, 198.51.100.1, 10.0.0.5',
      }, { address: '198.51.100.1', https: false, host: 'vai.example.com' }],
      ['every entry a trusted proxy: the left-most', { forwardedFor: '10.0.0.9, 127.0.0.1' }, { address: '10.0.0.9', https: false, host: 'vai.example.com' }],
      ['an entry that is no address ends the walk at the last one known', {
        forwardedFor: '198.51.100.1, garbage, 10.0.0.5',
      }, { address: '10.0.0.5', https: false, host: 'vai.example.com' }],
      ['a trusted peer with no X-Forwarded-For: the peer', { forwardedProto: 'https' }, { address: '127.0.0.1', https: true, host: 'vai.example.com' }],
      ['a proxy that appends: its own (last) scheme counts, not the client\'s claim', {
        forwardedFor: '198.51.100.1', forwardedProto: 'https, http',
      }, { address: '198.51.100.1', https: false, host: 'vai.example.com' }],
      ['two appending proxies: the scheme the client\'s proxy saw', {
        forwardedFor: '198.51.100.1, 10.0.0.5', forwardedProto: 'https, http', forwardedHost: 'vai.example.com, internal:8080',
      }, { address: '198.51.100.1', https: true, host: 'vai.example.com' }],
      ['two proxies, the outer one overwriting: its single value', {
        forwardedFor: '198.51.100.1, 10.0.0.5', forwardedProto: 'https',
      }, { address: '198.51.100.1', https: true, host: 'vai.example.com' }],
      ['an IPv6 client through an IPv4-mapped peer', {
        peer: '::ffff:127.0.0.1', forwardedFor: '2001:DB8::7',
      }, { address: '2001:db8::7', https: false, host: 'vai.example.com' }],
      ['no peer known', { peer: null, forwardedFor: '198.51.100.1' }, { address: 'unknown', https: false, host: 'vai.example.com' }],
      ['the connection itself is TLS', { peer: '203.0.113.9', https: true, forwardedProto: 'http' }, { address: '203.0.113.9', https: true, host: 'vai.example.com' }],
    ] as const)('%s', (_name, changes, client) => {
      expect(clientOfArrival(arrival(changes), trusted)).toEqual(client)
    })
  })

  describe('limitedAs: IPv6 clients are limited per /64', () => {
    test.each([
      ['192.0.2.1', '192.0.2.1'],
      ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
      ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
      ['2001:db8::1', '2001:db8::/64'],
      ['unknown', 'unknown'],
    ])('%p → %p', (address, key) => expect(limitedAs(address)).toBe(key))
  })
})
