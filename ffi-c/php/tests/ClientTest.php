<?php

declare(strict_types=1);

namespace Ksef\Tests;

use Ksef\Client;
use Ksef\Ids;
use Ksef\InvalidInputException;
use Ksef\KsefException;
use Ksef\Rules;
use PHPUnit\Framework\TestCase;

final class ClientTest extends TestCase
{
    private const SECRET = 'secret-ksef-token-123';

    /**
     * @return array<string, array{0: array<mixed>|string, 1: int, 2: string}>
     */
    public function badSettings(): array
    {
        return [
            'bad JSON' => ['{"nip":', 106, 'json_syntax'],
            'bad UTF-8' => ["{\"nip\":\"52658\xff77635\"}", 107, 'encoding'],
            'no environment' => [['nip' => '5265877635', 'ksef_token' => self::SECRET], 105, 'environment'],
            'unknown key' => [['environment' => 'test', 'nip' => '5265877635', 'ksef_token' => self::SECRET, 'bogus' => 1], 105, 'bogus'],
            'wrong NIP' => [['environment' => 'test', 'nip' => '5265877636', 'ksef_token' => self::SECRET], 105, 'nip'],
            'unknown environment' => [['environment' => 'staging', 'nip' => '5265877635', 'ksef_token' => self::SECRET], 105, 'environment'],
            'not a URL' => [['base_url' => 'ftp://x', 'nip' => '5265877635', 'ksef_token' => self::SECRET], 105, 'base_url'],
        ];
    }

    /**
     * @dataProvider badSettings
     * @param array<mixed>|string $settings
     */
    public function testBadSettingsThrowWithCodeAndPath(array|string $settings, int $code, string $pathOrName): void
    {
        try {
            new Client($settings);
            $this->fail('bad settings must throw');
        } catch (InvalidInputException $e) {
            $this->assertSame($code, $e->getCode(), $e->getMessage());
            if ($code === 105) {
                $this->assertSame($pathOrName, $e->getPath());
            } else {
                $this->assertSame($pathOrName, $e->getName());
            }
            $this->assertStringNotContainsString(self::SECRET, $e->getMessage());
        }
    }

    public function testPhpStringThatIsNotUtf8CannotBeEncoded(): void
    {
        $this->expectException(KsefException::class);
        $this->expectExceptionCode(107);
        new Client(['environment' => 'test', 'nip' => "\xff", 'ksef_token' => self::SECRET]);
    }

    public function testGoodSettingsMakeAClientThatCanBeClosed(): void
    {
        $c = new Client(['environment' => 'test', 'nip' => '5265877635', 'ksef_token' => self::SECRET]);
        $c->close();
        $c->close();
        $this->expectException(\LogicException::class);
        $c->raw();
    }

    /** An FA(3) invoice numbered `$number` of the seller the simulator accepts, dated now. */
    private static function invoiceXml(string $number): string
    {
        $rules = (string) file_get_contents(TestEnv::root() . '/examples/paired/rules.json');
        $d = Rules::evaluate($rules, [
            'id' => 'php-client-' . $number,
            'store' => 'b2b',
            'status' => 'shipped',
            'created_at' => gmdate('Y-m-d\\TH:i:s\\Z'),
            'currency' => 'PLN',
            'payment_method' => 'transfer',
            'customer' => [
                'name' => 'F.H.U. Jan Kowalski',
                'nip' => '1111111111',
                'country' => 'PL',
                'address' => ['street' => 'ul. Polna 1', 'city' => 'Kraków', 'postal_code' => '30-001', 'country' => 'PL'],
            ],
            'lines' => [['name' => 'Filtr do wody', 'quantity' => '3', 'unit' => 'szt.', 'unit_price_net' => '40.57', 'tax_rule' => 'standard']],
        ]);
        // The rule engine numbers from a fresh counter: give each test invoice its own number.
        return (string) preg_replace('#<P_2>[^<]*</P_2>#', '<P_2>' . $number . '</P_2>', $d['xml'], 1);
    }

    public function testSendOnlineToTheSimulator(): void
    {
        $client = new Client([
            'base_url' => TestEnv::simUrl($this),
            'nip' => '5265877635',
            'ksef_token' => self::SECRET,
            'poll_interval_ms' => 50,
        ]);
        $this->assertSame('authenticated', $client->authenticate()['type']);
        $this->assertTrue($client->testConnection()['ok']);

        $xml = self::invoiceXml('PHP/CLI/1');
        $r = $client->sendOnline([$xml]);
        $this->assertSame('online', $r['type']);
        $this->assertSame(1, $r['accepted']);
        $sent = $r['invoices'][0];
        $this->assertTrue($sent['accepted']);
        $this->assertTrue(Ids::isValidKsefNumber($sent['ksef_number']));
        $this->assertSame(Ids::sha256Base64($xml), $sent['status']['invoice_hash']);
        $this->assertStringContainsString($sent['ksef_number'], (string) $sent['upo']);
        $this->assertNotEmpty($r['session_upo']);

        $status = $client->sessionStatus($r['session']);
        $this->assertSame(1, $status['successful_invoice_count']);

        // The invoice comes back byte for byte.
        $back = $client->inboxDownload($sent['ksef_number']);
        $this->assertSame($xml, $back['xml']);

        // The same invoice again: refused as a duplicate, reported in the result.
        $again = $client->sendOnline([$xml]);
        $this->assertFalse($again['invoices'][0]['accepted']);
        $this->assertSame(507, $again['invoices'][0]['error']['code']);

        $this->assertSame('terminated', $client->logout()['type']);
    }

    public function testSendArgumentsAreChecked(): void
    {
        $client = new Client(['base_url' => TestEnv::simUrl($this), 'nip' => '5265877635', 'ksef_token' => self::SECRET]);
        try {
            $client->sendOnline([]);
            $this->fail('no invoices must throw');
        } catch (InvalidInputException $e) {
            $this->assertSame(901, $e->getCode());
        }
        try {
            $client->sendOnline(['<Faktura/>'], 'FA(9)');
            $this->fail('an unknown form must throw');
        } catch (InvalidInputException $e) {
            $this->assertSame(105, $e->getCode());
            $this->assertSame('form', $e->getPath());
        }
    }

    public function testUnreachableKsefIsANetworkException(): void
    {
        // A loopback port that was free a moment ago: nothing listens there.
        $server = stream_socket_server('tcp://127.0.0.1:0');
        $this->assertIsResource($server);
        $addr = (string) stream_socket_get_name($server, false);
        fclose($server);
        $client = new Client(['base_url' => "http://$addr/v2", 'nip' => '5265877635', 'ksef_token' => self::SECRET, 'timeout_ms' => 2000]);
        try {
            $client->authenticate();
            $this->fail('an unreachable KSeF must throw');
        } catch (\Ksef\NetworkException $e) {
            $this->assertSame(503, $e->getCode());
            $this->assertStringNotContainsString(self::SECRET, $e->getMessage());
        }
    }
}
