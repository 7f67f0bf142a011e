<?php

/**
 * Issues an invoice on KSeF and prints its KSeF number — by default on the loopback
 * simulator (`ksef sim`, which accepts any KSeF token for NIP 5265877635):
 *
 *   target/debug/ksef sim --port 8080 &
 *   KSEF_LIB=target/debug/libksef_ffi.so php ffi-c/php/examples/issue_invoice.php http://127.0.0.1:8080/v2
 *
 * On the real test environment: pass `test` instead of a URL and set KSEF_NIP and
 * KSEF_TOKEN (a token generated in the KSeF application for that NIP).
 */

declare(strict_types=1);

require dirname(__DIR__) . '/autoload.php'; // with Composer: require 'vendor/autoload.php';

use Ksef\Client;
use Ksef\Invoice;
use Ksef\KsefException;

$target = $argv[1] ?? 'http://127.0.0.1:8080/v2';
$nip = getenv('KSEF_NIP') ?: '5265877635';
$token = getenv('KSEF_TOKEN') ?: 'simulator-accepts-any-token';

// 1. The invoice from plain data (the builder computes the totals; money as strings).
$today = gmdate('Y-m-d');
$invoice = Invoice::build([
    'kind' => 'vat',
    'method' => 'gross',
    'header' => [
        'number' => 'FV/PHP/' . gmdate('YmdHis'),
        'issue_date' => $today,
        'created_at' => gmdate('Y-m-d\TH:i:s\Z'),
        'sale_date' => $today,
        'system_info' => 'ksef PHP example',
    ],
    'seller' => [
        'nip' => $nip,
        'name' => 'Sklep Zimnotech sp. z o.o.',
        'address' => ['country' => 'PL', 'line1' => 'ul. Kwiatowa 1', 'line2' => '00-001 Warszawa'],
    ],
    'buyer' => [
        'id' => ['type' => 'nip', 'value' => '1111111111'],
        'name' => 'F.H.U. Jan Kowalski',
        'address' => ['country' => 'PL', 'line1' => 'ul. Polna 1', 'line2' => '00-001 Warszawa'],
    ],
    'currency' => 'PLN',
    'lines' => [
        ['name' => 'Czajnik elektryczny', 'quantity' => '1', 'unit' => 'szt.', 'unit_price_gross' => '129.00', 'rate' => '23'],
        ['name' => 'Poradnik: herbata', 'quantity' => '2', 'unit' => 'szt.', 'unit_price_gross' => '39.99', 'rate' => '5'],
    ],
]);
$invoice->check($today); // the business rules; throws ValidationException with the report
$xml = $invoice->toXml();

// 2. Send it in an online session; the call returns when KSeF processed it.
$settings = str_starts_with($target, 'http')
    ? ['base_url' => $target, 'nip' => $nip, 'ksef_token' => $token, 'poll_interval_ms' => 100]
    : ['environment' => $target, 'nip' => $nip, 'ksef_token' => $token];
try {
    $client = new Client($settings);
    $result = $client->sendOnline([$xml]);
    $sent = $result['invoices'][0];
    if (!$sent['accepted']) {
        fwrite(STDERR, "rejected: {$sent['error']['code']} {$sent['error']['message']}\n");
        exit(1);
    }
    echo $sent['ksef_number'], "\n";
    $client->logout();
} catch (KsefException $e) {
    fwrite(STDERR, sprintf("failed: %d %s at %s: %s\n", $e->getCode(), $e->getName(), $e->getPath(), $e->getMessage()));
    exit(1);
}
