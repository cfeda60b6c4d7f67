import { Global, Module } from '@nestjs/common';
import { Journal } from '../journal/journal';
import { ReadModelStore } from '../journal/read-model-store';
import { CacheNamesProjection } from './cache-names.projection';
import { KeyListingProjection } from './key-listing.projection';
import { ProjectionRunner } from './projection-runner';

export const KEY_LISTING_RUNNER = Symbol('KEY_LISTING_RUNNER');
export const CACHE_NAMES_RUNNER = Symbol('CACHE_NAMES_RUNNER');

@Global()
@Module({
  providers: [
    { provide: KeyListingProjection, useFactory: (store: ReadModelStore) => new KeyListingProjection(store), inject: [ReadModelStore] },
    { provide: CacheNamesProjection, useFactory: (store: ReadModelStore) => new CacheNamesProjection(store), inject: [ReadModelStore] },
    {
      provide: KEY_LISTING_RUNNER,
      useFactory: (store: ReadModelStore, journal: Journal, projection: KeyListingProjection) => new ProjectionRunner(store, journal, projection),
      inject: [ReadModelStore, Journal, KeyListingProjection],
    },
    {
      provide: CACHE_NAMES_RUNNER,
      useFactory: (store: ReadModelStore, journal: Journal, projection: CacheNamesProjection) => new ProjectionRunner(store, journal, projection),
      inject: [ReadModelStore, Journal, CacheNamesProjection],
    },
  ],
  exports: [KeyListingProjection, CacheNamesProjection, KEY_LISTING_RUNNER, CACHE_NAMES_RUNNER],
})
export class ProjectionsModule {}
