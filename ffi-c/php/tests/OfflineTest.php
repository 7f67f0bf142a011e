<?php

declare(strict_types=1);

namespace Ksef\Tests;

use Ksef\Client;
use Ksef\Ids;
use Ksef\Rules;
use Ksef\KsefException;
use Ksef\Offline;
use Ksef\OfflineException;
use Ksef\QrException;
use PHPUnit\Framework\TestCase;

final class OfflineTest extends TestCase
{
    public function testDeadlines(): void
    {
        // offline24: the next business day; Easter Monday 2026-04-06 is a holiday.
        $d = Offline::deadline('offline24', '2026-04-03', null, '2026-04-07');
        $this->assertSame('2026-04-07', $d['deadline']);
        $this->assertSame('due-today', $d['status']);
        $this->assertSame('overdue', Offline::deadline('offline24', '2026-04-03', null, '2026-04-08')['status']);
        $this->assertNull(Offline::deadline('total-failure')['deadline']);
    }

    public function testBadModeOrDateIsInvalidValue(): void
    {
        foreach ([['offline48', '2026-04-03'], ['offline24', '2026-13-01'], ['offline24', null]] as [$mode, $date]) {
            try {
                Offline::deadline($mode, $date);
                $this->fail("$mode $date must throw");
            } catch (KsefException $e) {
                $this->assertSame(105, $e->getCode(), $e->getMessage());
            }
        }
    }

    /**
     * An FA(3) invoice of the seller the simulator accepts, dated now: the rule engine's
     * document for a wholesale order of the `b2b` store (numbered `H/YY/00001`; the paired
     * tests use the other store).
     */
    private static function invoiceXml(string $series = ''): string
    {
        $rules = (string) file_get_contents(TestEnv::root() . '/examples/paired/rules.json');
        if ($series !== '') {
            // another invoice series, so that invoices of one test differ in number
            $rules = str_replace('"H/{YY}/', '"' . $series . '/{YY}/', $rules);
        }
        $order = [
            'id' => 'php-offline-1',
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
            'lines' => [
                ['name' => 'Lodówka Zimnotech mk1', 'quantity' => '2', 'unit' => 'szt.', 'unit_price_net' => '1626.01', 'tax_rule' => 'standard'],
            ],
        ];
        $d = Rules::evaluate($rules, $order, 'status');
        self::assertSame('issue', $d['decision'], json_encode($d) ?: '');
        return $d['xml'];
    }

    public function testIssueOfflineWithQrThenSendOnRecovery(): void
    {
        $today = gmdate('Y-m-d');
        $xml = self::invoiceXml();
        $queue = new Offline('test');
        $inv = $queue->issue('off-1', $xml, 'offline24', $today);
        $this->assertSame('pending', $inv['status']);
        $this->assertSame(Ids::sha256Base64($xml), $inv['hash']);
        $this->assertStringStartsWith('https://qr-test.ksef.mf.gov.pl/invoice/5265877635/', $inv['kod1_url']);
        $this->assertStringEndsWith(Ids::sha256Base64($xml, true), $inv['kod1_url']);
        $this->assertStringStartsWith("\x89PNG", $queue->qr('off-1'));
        $this->assertStringContainsString('<svg', $queue->qr('off-1', false, true));

        // The same bytes twice are refused; a queue survives a snapshot.
        try {
            $queue->issue('off-2', $xml, 'offline24', $today);
            $this->fail('the same invoice twice must throw');
        } catch (OfflineException $e) {
            $this->assertSame(700, $e->getCode());
        }
        $queue = Offline::restore($queue->snapshotCbor());
        $this->assertSame('off-1', $queue->list()['invoices'][0]['id']);

        // KSeF is back: send.
        $client = new Client([
            'base_url' => TestEnv::simUrl($this),
            'nip' => '5265877635',
            'ksef_token' => 'php-ksef-token',
            'poll_interval_ms' => 50,
        ]);
        $report = $queue->send($client, $today);
        $this->assertCount(1, $report['accepted'], json_encode($report) ?: '');
        $this->assertSame('off-1', $report['accepted'][0]['id']);
        $this->assertTrue(Ids::isValidKsefNumber($report['accepted'][0]['ksef_number']));
        $this->assertSame([], $report['rejected']);
        $listed = $queue->list($today)['invoices'][0];
        $this->assertSame('accepted', $listed['status']);
        $this->assertSame($report['accepted'][0]['ksef_number'], $listed['ksef_number']);
        $this->assertSame([], $queue->overdue($today));
    }

    public function testBadInputsToTheQueue(): void
    {
        $queue = new Offline('test');
        try {
            $queue->issue('x', '<Faktura', 'offline24', '2026-04-03');
            $this->fail('broken XML must throw');
        } catch (KsefException $e) {
            $this->assertSame(100, $e->getCode());
        }
        try {
            $queue->qr('nope');
            $this->fail('an unknown id must throw');
        } catch (OfflineException $e) {
            $this->assertSame(701, $e->getCode());
        }
        try {
            Offline::restore('{"not":"a queue"}');
            $this->fail('a bad snapshot must throw');
        } catch (OfflineException $e) {
            $this->assertSame(703, $e->getCode());
        }
        $this->expectExceptionCode(105);
        new Offline('staging');
    }

    public function testKod2WithTheOfflineCertificateAndAnnouncedFailures(): void
    {
        // Throwaway test keys of the C tests (ffi-c/tests/c/data/README.md).
        $data = TestEnv::root() . '/ffi-c/tests/c/data';
        $cert = (string) file_get_contents("$data/ec-p256.cert.pem");
        $queue = new Offline('test');
        try {
            $queue->setSigner($cert, (string) file_get_contents("$data/rsa2048.pkcs8.pem"), 'nip', '5265877635');
            $this->fail('a key of another certificate must throw');
        } catch (QrException $e) {
            $this->assertSame(402, $e->getCode());
        }
        $queue->setSigner($cert, (string) file_get_contents("$data/ec-p256.pkcs8.pem"), 'nip', '5265877635');

        $xml = (string) file_get_contents(TestEnv::spec($this) . '/samples/fa3/FA_3_Przyklad_01.xml');
        $inv = $queue->issue('kod2', $xml, 'offline24', '2026-02-15');
        $this->assertSame('2026-02-16', $inv['deadline']);
        $this->assertStringStartsWith(
            'https://qr-test.ksef.mf.gov.pl/certificate/Nip/5265877635/9999999999/01F20A5D352AE590/'
            . Ids::sha256Base64($xml, true) . '/',
            $inv['kod2_url'],
        );
        $this->assertStringStartsWith("\x89PNG", $queue->qr('kod2', true));
        // The key never reaches a snapshot.
        $this->assertStringNotContainsString('PRIVATE KEY', $queue->snapshotJson());

        // A failure announced on the deadline day moves the deadline.
        $moved = $queue->announceFailure('2026-02-16', '2026-02-18');
        $this->assertSame([['from' => '2026-02-16', 'id' => 'kod2', 'to' => '2026-02-27']], $moved);
        $this->assertSame('ok', $queue->list('2026-02-17')['invoices'][0]['deadline_status']);
        $this->assertCount(1, $queue->overdue('2026-03-02'));
    }

    /** Recovery through a batch session: several invoices, each accepted and mapped back. */
    public function testSendInABatchSession(): void
    {
        $today = gmdate('Y-m-d');
        $queue = new Offline('test');
        foreach (['HB1', 'HB2', 'HB3'] as $n => $series) {
            $queue->issue("batch-$n", self::invoiceXml($series), 'offline24', $today);
        }
        $client = new Client([
            'base_url' => TestEnv::simUrl($this),
            'nip' => '5265877635',
            'ksef_token' => 'php-ksef-token',
            'poll_interval_ms' => 50,
        ]);
        $report = $queue->sendBatch($client, $today);
        $this->assertCount(3, $report['accepted'], json_encode($report) ?: '');
        $this->assertSame([], $report['rejected']);
        foreach ($queue->list()['invoices'] as $inv) {
            $this->assertSame('accepted', $inv['status']);
            $this->assertTrue(Ids::isValidKsefNumber($inv['ksef_number']));
        }
        $this->assertSame([], $queue->sendBatch($client, $today)['accepted']);
    }
}
