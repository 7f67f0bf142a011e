<?php

declare(strict_types=1);

namespace Ksef\Tests;

use Ksef\Client;
use Ksef\Ids;
use Ksef\InvalidInputException;
use Ksef\KsefException;
use Ksef\Lighthouse;
use Ksef\Paired;
use Ksef\Rules;
use PHPUnit\Framework\TestCase;

/**
 * Paired mode against the loopback simulator (KSeF + Fakturownia + NBP): one engine goes
 * through the whole flow (the simulator keeps its state for the whole run, and the
 * numbering of a fresh engine would repeat invoice numbers KSeF already holds).
 */
final class PairedTest extends TestCase
{
    private const FAKTUROWNIA_TOKEN = 'php-fakturownia-token';

    /** @return array<string, mixed> */
    private static function rules(): array
    {
        $rules = json_decode((string) file_get_contents(TestEnv::root() . '/examples/paired/rules.json'), true);
        self::assertIsArray($rules);
        return $rules;
    }

    /** @return array<string, mixed> */
    private static function order(string $name): array
    {
        $order = json_decode((string) file_get_contents(TestEnv::root() . "/examples/paired/$name.json"), true);
        self::assertIsArray($order);
        return $order;
    }

    /** @return array<string, mixed> */
    private function settings(): array
    {
        $host = TestEnv::simHost($this);
        return [
            'store' => 'pl-main',
            'fakturownia_url' => "$host/fakturownia",
            'fakturownia_token' => self::FAKTUROWNIA_TOKEN,
            'nbp_url' => "$host/nbp",
        ];
    }

    private function client(): Client
    {
        return new Client([
            'base_url' => TestEnv::simUrl($this),
            'nip' => '5265877635',
            'ksef_token' => 'php-ksef-token',
            'poll_interval_ms' => 50,
        ]);
    }

    public function testOrderBecomesKsefInvoiceAndFakturowniaDocumentThenSnapshotRestore(): void
    {
        $client = $this->client();
        $engine = new Paired(self::rules(), $this->settings(), $client);
        // The engine took the client over.
        try {
            $client->raw();
            $this->fail('the client must be taken over');
        } catch (\LogicException) {
        }

        $r = $engine->submitOrder(self::order('order-b2c'), 'status');
        $this->assertSame('submitted', $r['outcome']);
        $job = $r['job'];
        $this->assertSame('COMPLETED', $job['status'], json_encode($job) ?: '');
        $ksefNumber = $job['ksef_number'];
        $this->assertTrue(Ids::isValidKsefNumber($ksefNumber), $ksefNumber);
        $this->assertStringStartsWith('5265877635-', $ksefNumber);
        $this->assertIsInt($job['fakturownia_id']);

        // The Fakturownia document carries the KSeF number (checked on the simulator itself).
        $host = TestEnv::simHost($this);
        $doc = TestEnv::getJson("$host/fakturownia/invoices/{$job['fakturownia_id']}.json?api_token=" . self::FAKTUROWNIA_TOKEN);
        $this->assertIsArray($doc);
        $this->assertSame($ksefNumber, $doc['gov_id']);

        // The job with its documents; the PDF; the audit trail.
        $full = $engine->job($job['job']);
        $this->assertStringContainsString('<P_2>' . $job['number'] . '</P_2>', $full['xml']);
        $this->assertSame($ksefNumber, $full['fakturownia_gov_id']);
        $this->assertSame($job['number'], $full['fakturownia_document']['number']);
        $this->assertStringStartsWith('%PDF', $engine->pdf($job['job']));
        $channels = array_unique(array_column($engine->audit(), 'channel'));
        $this->assertContains('Ksef', $channels);
        $this->assertContains('Fakturownia', $channels);

        // An order that the rules exclude is skipped, not issued.
        $cod = self::order('order-b2c');
        $cod['id'] = 'php-cod-1';
        $cod['payment_method'] = 'cash_on_delivery';
        $skip = $engine->submitOrder($cod, 'status');
        $this->assertSame('skipped', $skip['outcome']);

        // Snapshot (no secrets), a new engine from it: the job is there, the same order is a
        // conflict, the numbering goes on.
        $json = $engine->snapshotJson();
        $this->assertStringNotContainsString(self::FAKTUROWNIA_TOKEN, $json);
        $this->assertStringNotContainsString('php-ksef-token', $json);
        $cbor = $engine->snapshotCbor();
        $engine->close();

        $again = Paired::restore($cbor, self::rules(), $this->settings(), $this->client());
        $jobs = $again->status()['jobs'];
        $this->assertCount(1, $jobs);
        $this->assertSame($ksefNumber, $jobs[0]['ksef_number']);
        $this->assertSame([], $again->run());
        try {
            $again->submitOrder(self::order('order-b2c'), 'status');
            $this->fail('the same order again must be a conflict');
        } catch (KsefException $e) {
            $this->assertSame(640, $e->getCode());
        }

        // An EUR order: the NBP rate comes from the simulator.
        $eur = $again->submitOrder(self::order('order-eur'), 'status');
        $this->assertSame('COMPLETED', $eur['job']['status'], json_encode($eur['job']) ?: '');
        $this->assertNotSame($job['number'], $eur['job']['number']);
        $this->assertTrue(Ids::isValidKsefNumber($eur['job']['ksef_number']));
    }

    public function testBadRulesAndOrdersNameTheProblem(): void
    {
        try {
            new Paired('{"stores":', $this->settings(), $this->client());
            $this->fail('bad JSON must throw');
        } catch (InvalidInputException $e) {
            $this->assertSame(106, $e->getCode());
        }
        $rules = self::rules();
        $rules['stores']['pl-main']['tax_rules']['standard']['p_12'] = '17';
        try {
            new Paired($rules, $this->settings(), $this->client());
            $this->fail('an unknown VAT rate must throw');
        } catch (KsefException $e) {
            $this->assertSame(621, $e->getCode());
            $this->assertStringContainsString('standard', $e->getPath());
        }

        $order = self::order('order-b2c');
        unset($order['lines']);
        try {
            Rules::evaluate(self::rules(), $order);
            $this->fail('an order without lines must throw');
        } catch (InvalidInputException $e) {
            $this->assertSame(620, $e->getCode());
            $this->assertStringContainsString('lines', $e->getPath());
        }
    }

    public function testRulesAloneGiveTheDocuments(): void
    {
        $d = Rules::evaluate(self::rules(), self::order('order-b2c'), 'status', null, '2026-03-02T10:00:00+01:00');
        $this->assertSame('issue', $d['decision']);
        $this->assertStringContainsString('<Faktura', $d['xml']);
        $this->assertIsArray($d['fakturownia']);
    }

    /**
     * KSeF announced down: the order's invoice is issued offline with KOD I/II and, in
     * simultaneous mode, the Fakturownia document is made at once; KSeF back: the invoice is
     * sent with offlineMode and its KSeF number backfilled into the document.
     */
    public function testOfflineIssuingWhileKsefIsDownThenRecovery(): void
    {
        $host = TestEnv::simHost($this);
        $status = Lighthouse::status("$host/latarnia");
        self::assertSame('AVAILABLE', $status['status']);
        // its own invoice series: the simulator keeps the numbers of the other tests
        $rules = str_replace(
            'FV/{YYYY}/{MM}/{seq}',
            'FP/{YYYY}/{MM}/{seq}',
            (string) file_get_contents(TestEnv::root() . '/examples/paired/rules.json')
        );
        $data = TestEnv::root() . '/ffi-c/tests/c/data';
        $settings = $this->settings() + [
            'mode' => 'simultaneous',
            'offline' => [
                'certificate_pem' => (string) file_get_contents("$data/ec-p256.cert.pem"),
                'private_key_pem' => (string) file_get_contents("$data/ec-p256.pkcs8.pem"),
            ],
        ];
        $engine = new Paired($rules, $settings, $this->client());
        $engine->setKsefStatus('FAILURE');
        $r = $engine->submitOrder(self::order('order-b2b'));
        self::assertSame('FAKTUROWNIA_OK_KSEF_OFFLINE', $r['job']['status']);
        self::assertNotNull($r['job']['fakturownia_id']);
        $issued = array_values(array_filter($r['events'], fn ($e) => $e['event'] === 'offline_issued'));
        self::assertCount(1, $issued);
        self::assertStringStartsWith('https://qr-test.ksef.mf.gov.pl/invoice/5265877635/', $issued[0]['kod1_url']);
        self::assertStringContainsString('/certificate/Nip/5265877635/', (string) $issued[0]['kod2_url']);
        $queue = $engine->offline();
        self::assertNotNull($queue);
        self::assertSame('pending', $queue['invoices'][0]['status']);
        self::assertStringNotContainsString('PRIVATE KEY', $engine->snapshotJson());

        $engine->setKsefStatus('AVAILABLE');
        $back = $engine->recoverOffline();
        self::assertSame(1, $back['sent']);
        $job = $engine->job($r['job']['job']);
        self::assertSame('COMPLETED', $job['status']);
        self::assertTrue(Ids::isValidKsefNumber((string) $job['ksef_number']));
        self::assertSame($job['ksef_number'], $job['fakturownia_gov_id']);

        try {
            $engine->setKsefStatus('SUNNY');
            self::fail('an unknown status was taken');
        } catch (KsefException $e) {
            self::assertSame(901, $e->getCode());
        }
    }
}
