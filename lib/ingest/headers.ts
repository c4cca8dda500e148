// The column headers of each platform's export, as the platform writes them,
// in English, French and German: which product field each one feeds. When a
// field has several candidates (Meta's "Link clicks" and "Clicks (all)"), the
// first one present in the file wins. Pure, client-safe.
import type { ImportPlatform, TargetField } from './types';

export type Language = 'en' | 'fr' | 'de';

/** Fields of an export beyond the product's: Meta's reporting range (a day when it starts and ends on it). */
export type ExtraField = 'range_start' | 'range_end';
export type HeaderField = TargetField | ExtraField;

/** A column that marks a level the product does not store (ads, keywords): refused with a message. */
export type LevelMarker = 'ad';

export interface PlatformHeaders {
  /** Candidates per field, most preferred first. */
  fields: Partial<Record<HeaderField, readonly string[]>>;
  /** Headers that name a level below the ad set. */
  adLevel?: readonly string[];
}

/** The spend and value headers may end with the currency: "Amount spent (EUR)". */
export const CURRENCY_SUFFIX = /\s*[([]\s*([A-Za-z]{3})\s*[)\]]\s*$/;

/**
 * Lower case, single spaces, typographic apostrophes and the currency suffix
 * dropped, accents kept: the key headers are compared on.
 */
export function normalizeHeader(h: string): string {
  return h
    .normalize('NFC')
    .replace(/^\ufeff/, '')
    .replace(/[\u2019\u2018`´]/g, "'")
    .replace(CURRENCY_SUFFIX, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/** The currency a header states ("Amount spent (EUR)" → EUR), or null. */
export function headerCurrency(h: string): string | null {
  const m = CURRENCY_SUFFIX.exec(h.trim());
  return m ? m[1]!.toUpperCase() : null;
}

export const HEADERS: Record<ImportPlatform, Record<Language, PlatformHeaders>> = {
  meta: {
    en: {
      fields: {
        day: ['Day', 'Date'],
        range_start: ['Reporting starts'],
        range_end: ['Reporting ends'],
        campaign_name: ['Campaign name'],
        campaign_id: ['Campaign ID'],
        adset_name: ['Ad set name'],
        adset_id: ['Ad set ID'],
        currency: ['Currency'],
        spend: ['Amount spent'],
        impressions: ['Impressions'],
        clicks: ['Link clicks', 'Clicks (all)'],
        conversions: ['Results', 'Purchases'],
        conversion_value: ['Purchases conversion value', 'Purchase conversion value', 'Results value'],
      },
      adLevel: ['Ad ID', 'Ad name'],
    },
    fr: {
      fields: {
        day: ['Jour', 'Date'],
        range_start: ['Début des rapports'],
        range_end: ['Fin des rapports'],
        campaign_name: ['Nom de la campagne'],
        campaign_id: ['Identifiant de la campagne', 'ID de la campagne'],
        adset_name: ["Nom de l'ensemble de publicités"],
        adset_id: ["Identifiant de l'ensemble de publicités", "ID de l'ensemble de publicités"],
        currency: ['Devise'],
        spend: ['Montant dépensé'],
        impressions: ['Impressions'],
        clicks: ['Clics sur un lien', 'Clics (tous)'],
        conversions: ['Résultats', 'Achats'],
        conversion_value: ['Valeur de conversion des achats', 'Valeur des résultats'],
      },
      adLevel: ['Identifiant de la publicité', 'Nom de la publicité'],
    },
    de: {
      fields: {
        day: ['Tag', 'Datum'],
        range_start: ['Berichtsbeginn'],
        range_end: ['Berichtsende'],
        campaign_name: ['Kampagnenname', 'Name der Kampagne'],
        campaign_id: ['Kampagnen-ID'],
        adset_name: ['Anzeigengruppenname', 'Name der Anzeigengruppe'],
        adset_id: ['Anzeigengruppen-ID'],
        currency: ['Währung'],
        spend: ['Ausgegebener Betrag'],
        impressions: ['Impressionen'],
        clicks: ['Link-Klicks', 'Klicks (alle)'],
        conversions: ['Ergebnisse', 'Käufe'],
        conversion_value: ['Conversion-Wert für Käufe', 'Wert der Ergebnisse'],
      },
      adLevel: ['Anzeigen-ID', 'Anzeigenname'],
    },
  },
  google: {
    en: {
      fields: {
        day: ['Day', 'Date'],
        campaign_name: ['Campaign'],
        campaign_id: ['Campaign ID'],
        adset_name: ['Ad group'],
        adset_id: ['Ad group ID'],
        currency: ['Currency code', 'Currency'],
        spend: ['Cost'],
        impressions: ['Impr.', 'Impressions'],
        clicks: ['Clicks'],
        conversions: ['Conversions'],
        conversion_value: ['Conv. value', 'Conversion value'],
      },
      adLevel: ['Ad ID', 'Keyword ID', 'Search keyword'],
    },
    fr: {
      fields: {
        day: ['Jour', 'Date'],
        campaign_name: ['Campagne'],
        campaign_id: ['ID de la campagne', 'Identifiant de la campagne'],
        adset_name: ["Groupe d'annonces"],
        adset_id: ["ID du groupe d'annonces"],
        currency: ['Code de la devise', 'Devise'],
        spend: ['Coût'],
        impressions: ['Impr.', 'Impressions'],
        clicks: ['Clics'],
        conversions: ['Conversions'],
        conversion_value: ['Valeur de conv.', 'Valeur de conversion'],
      },
      adLevel: ["ID de l'annonce", 'ID du mot clé', 'Mot clé de recherche'],
    },
    de: {
      fields: {
        day: ['Tag', 'Datum'],
        campaign_name: ['Kampagne'],
        campaign_id: ['Kampagnen-ID'],
        adset_name: ['Anzeigengruppe'],
        adset_id: ['Anzeigengruppen-ID'],
        currency: ['Währungscode', 'Währung'],
        spend: ['Kosten'],
        impressions: ['Impr.', 'Impressionen'],
        clicks: ['Klicks'],
        conversions: ['Conversions', 'Konversionen'],
        conversion_value: ['Conv.-Wert', 'Conversion-Wert', 'Konv.-Wert'],
      },
      adLevel: ['Anzeigen-ID', 'Keyword-ID', 'Suchbegriff'],
    },
  },
  tiktok: {
    en: {
      fields: {
        day: ['By Day', 'Date', 'Day'],
        campaign_name: ['Campaign name', 'Campaign Name'],
        campaign_id: ['Campaign ID'],
        adset_name: ['Ad group name', 'Ad Group Name'],
        adset_id: ['Ad group ID', 'Ad Group ID'],
        currency: ['Currency'],
        spend: ['Cost', 'Total cost'],
        impressions: ['Impressions'],
        clicks: ['Clicks (destination)', 'Clicks (all)', 'Clicks'],
        conversions: ['Conversions'],
        conversion_value: ['Total conversion value', 'Conversion value'],
      },
      adLevel: ['Ad ID', 'Ad name'],
    },
    fr: {
      fields: {
        day: ['Par jour', 'Date', 'Jour'],
        campaign_name: ['Nom de la campagne'],
        campaign_id: ['ID de campagne', 'ID de la campagne'],
        adset_name: ["Nom du groupe d'annonces"],
        adset_id: ["ID du groupe d'annonces"],
        currency: ['Devise'],
        spend: ['Coût', 'Coût total'],
        impressions: ['Impressions'],
        clicks: ['Clics (destination)', 'Clics (tous)', 'Clics'],
        conversions: ['Conversions'],
        conversion_value: ['Valeur totale des conversions', 'Valeur de conversion'],
      },
      adLevel: ["ID de l'annonce", "Nom de l'annonce"],
    },
    de: {
      fields: {
        day: ['Nach Tag', 'Datum', 'Tag'],
        campaign_name: ['Kampagnenname'],
        campaign_id: ['Kampagnen-ID'],
        adset_name: ['Anzeigengruppenname'],
        adset_id: ['Anzeigengruppen-ID'],
        currency: ['Währung'],
        spend: ['Kosten', 'Gesamtkosten'],
        impressions: ['Impressionen'],
        clicks: ['Klicks (Ziel)', 'Klicks (alle)', 'Klicks'],
        conversions: ['Conversions', 'Konversionen'],
        conversion_value: ['Gesamter Conversion-Wert', 'Conversion-Wert'],
      },
      adLevel: ['Anzeigen-ID', 'Anzeigenname'],
    },
  },
  linkedin: {
    en: {
      fields: {
        day: ['Start Date (in UTC)', 'Start Date', 'Date'],
        campaign_name: ['Campaign Name'],
        campaign_id: ['Campaign ID'],
        currency: ['Currency'],
        spend: ['Total Spent', 'Amount Spent'],
        impressions: ['Impressions'],
        clicks: ['Clicks'],
        conversions: ['Conversions', 'Leads'],
        conversion_value: ['Total Conversion Value', 'Conversion Value'],
      },
      adLevel: ['Creative ID', 'Ad ID'],
    },
    fr: {
      fields: {
        day: ['Date de début (en UTC)', 'Date de début (UTC)', 'Date de début'],
        campaign_name: ['Nom de la campagne'],
        campaign_id: ['ID de la campagne', 'Identifiant de la campagne'],
        currency: ['Devise'],
        spend: ['Total dépensé', 'Montant dépensé'],
        impressions: ['Impressions'],
        clicks: ['Clics'],
        conversions: ['Conversions', 'Prospects', 'Leads'],
        conversion_value: ['Valeur totale des conversions', 'Valeur de conversion'],
      },
      adLevel: ['ID de la création', "ID de l'annonce"],
    },
    de: {
      fields: {
        day: ['Startdatum (in UTC)', 'Startdatum (UTC)', 'Startdatum'],
        campaign_name: ['Kampagnenname'],
        campaign_id: ['Kampagnen-ID'],
        currency: ['Währung'],
        spend: ['Ausgaben insgesamt', 'Ausgegebener Betrag'],
        impressions: ['Impressionen'],
        clicks: ['Klicks'],
        conversions: ['Conversions', 'Leads'],
        conversion_value: ['Gesamter Conversion-Wert', 'Conversion-Wert'],
      },
      adLevel: ['Creative-ID', 'Anzeigen-ID'],
    },
  },
};

/** Words a totals row starts with, in the three languages ("Total: Account", "Gesamt: Konto", "Total : compte"). */
export const TOTALS_ROW = /^\s*(total|totals|totaux|gesamt|gesamtsumme|insgesamt|summe)\b/i;

/** The fields a file must provide for its rows to be stored. */
export const REQUIRED_FIELDS: readonly TargetField[] = ['day', 'campaign_id', 'spend', 'impressions', 'clicks', 'conversions'];

export interface HeaderMatch {
  platform: ImportPlatform;
  language: Language;
  /** Index of the file column for each field. */
  columns: Partial<Record<HeaderField, number>>;
  /** Headers of the file this dictionary knows. */
  recognised: number;
  /** An ad-level column the file has (refused: the product stores campaigns and ad sets). */
  adLevelColumn: number | null;
}

/** How each platform's dictionary in each language reads a header line, best first. */
export function matchHeaders(headers: readonly string[]): HeaderMatch[] {
  const norm = headers.map(normalizeHeader);
  const out: HeaderMatch[] = [];
  for (const platform of Object.keys(HEADERS) as ImportPlatform[]) {
    for (const language of Object.keys(HEADERS[platform]) as Language[]) {
      const dict = HEADERS[platform][language];
      const columns: Partial<Record<HeaderField, number>> = {};
      const used = new Set<number>();
      for (const [field, candidates] of Object.entries(dict.fields) as [HeaderField, readonly string[]][]) {
        for (const c of candidates) {
          const i = norm.indexOf(normalizeHeader(c));
          if (i !== -1 && !used.has(i)) {
            columns[field] = i;
            used.add(i);
            break;
          }
        }
      }
      // Every header the dictionary names counts, used or not (a second clicks column still says "Meta").
      const known = new Set(Object.values(dict.fields).flat().map(normalizeHeader));
      const recognised = norm.filter((h) => known.has(h)).length;
      const adNames = (dict.adLevel ?? []).map(normalizeHeader);
      const ad = norm.findIndex((h) => adNames.includes(h));
      out.push({ platform, language, columns, recognised, adLevelColumn: ad === -1 ? null : ad });
    }
  }
  return out.sort((a, b) => b.recognised - a.recognised);
}
