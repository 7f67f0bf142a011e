<?php

declare(strict_types=1);

namespace Ksef\Tests;

use Ksef\Ids;
use Ksef\InvalidInputException;
use Ksef\Invoice;
use Ksef\KsefException;
use Ksef\ValidationException;
use PHPUnit\Framework\TestCase;

final class InvoiceTest extends TestCase
{
    public function testBuilderInputBecomesFa3WithComputedTotals(): void
    {
        $inv = Invoice::build(TestEnv::builder('PHP/INV/1'));
        $this->assertSame(Invoice::FA3, $inv->schema());
        $xml = $inv->toXml();
        $this->assertStringContainsString('<P_2>PHP/INV/1</P_2>', $xml);
        $this->assertStringContainsString('<NIP>5265877635</NIP>', $xml);
        // Net 1626.01 at 23 % and 2 x 2.49 at 5 %: VAT 373.98 + 0.25, due 2005.22.
        $this->assertStringContainsString('<P_15>2005.22</P_15>', $xml);
        $this->assertSame('PHP/INV/1', $inv->toArray()['Fa']['P_2'] ?? null);
        $report = $inv->validate(gmdate('Y-m-d'));
        $this->assertTrue($report['valid']);
        $this->assertSame(0, $report['errors']);
        $inv->check(gmdate('Y-m-d'));
    }

    public function testOfficialSampleRoundTripsThroughJson(): void
    {
        $xml = file_get_contents(TestEnv::spec($this) . '/samples/fa3/FA_3_Przyklad_01.xml');
        $this->assertIsString($xml);
        $inv = Invoice::fromXml($xml);
        $json = $inv->toJson();
        $again = Invoice::fromJson($json);
        $this->assertSame($inv->toXml(), $again->toXml());
        $this->assertSame($inv->toArray(), Invoice::fromJson($inv->toArray())->toArray());
    }

    public function testInvalidXmlIsXmlSyntaxError(): void
    {
        try {
            Invoice::fromXml('<Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/"><Naglowek>');
            $this->fail('broken XML must throw');
        } catch (InvalidInputException $e) {
            $this->assertSame(100, $e->getCode());
            $this->assertSame('xml_syntax', $e->getName());
        }
    }

    public function testXmlThatIsNotUtf8IsRefused(): void
    {
        $xml = file_get_contents(TestEnv::spec($this) . '/samples/fa3/FA_3_Przyklad_01.xml');
        $this->assertIsString($xml);
        $bad = str_replace('<P_2>', "<P_2>\xff", $xml);
        try {
            Invoice::fromXml($bad);
            $this->fail('bad UTF-8 must throw');
        } catch (InvalidInputException $e) {
            $this->assertSame(107, $e->getCode(), $e->getMessage());
            $this->assertSame('encoding', $e->getName());
        }
    }

    public function testDtdIsRefused(): void
    {
        $this->expectExceptionCode(101);
        Invoice::fromXml('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Faktura/>');
    }

    public function testBadJsonIsJsonSyntaxError(): void
    {
        try {
            Invoice::fromJson('{"Naglowek":');
            $this->fail('bad JSON must throw');
        } catch (InvalidInputException $e) {
            $this->assertSame(106, $e->getCode());
        }
    }

    public function testWrongSellerNipNamesTheJsonPath(): void
    {
        $b = TestEnv::builder('PHP/INV/2');
        $b['seller']['nip'] = '5265877636';
        try {
            Invoice::build($b);
            $this->fail('a wrong NIP must throw');
        } catch (ValidationException $e) {
            $this->assertSame(301, $e->getCode(), $e->getMessage());
            $this->assertSame('seller.nip', $e->getPath());
            $this->assertStringContainsString('check digit', $e->getMessage());
        }
    }

    public function testUnknownSchemaNumberIsInvalidArgument(): void
    {
        $this->expectExceptionCode(901);
        Invoice::build(TestEnv::builder('PHP/INV/3'), 7);
    }

    public function testHashOfTheXmlIsWhatKsefRecords(): void
    {
        $xml = Invoice::build(TestEnv::builder('PHP/INV/4'))->toXml();
        $this->assertSame(base64_encode(hash('sha256', $xml, true)), Ids::sha256Base64($xml));
    }

    public function testWrongTotalFailsTheRulesWithTheReport(): void
    {
        $xml = file_get_contents(TestEnv::spec($this) . '/samples/fa3/FA_3_Przyklad_01.xml');
        $this->assertIsString($xml);
        $inv = Invoice::fromXml((string) preg_replace('#<P_15>[^<]*</P_15>#', '<P_15>1.00</P_15>', $xml));
        $report = $inv->validate('2026-02-20');
        $this->assertFalse($report['valid']);
        $this->assertContains('Faktura/Fa/P_15', array_column($report['issues'], 'path'));
        try {
            $inv->check('2026-02-20');
            $this->fail('a wrong total must throw');
        } catch (ValidationException $e) {
            $this->assertSame(300, $e->getCode());
            $this->assertSame('Faktura/Fa/P_15', $e->getPath());
            $this->assertSame($report, $e->getDetail());
        }
        $this->expectExceptionCode(901);
        $inv->validate('20-02-2026');
    }
}
