"""Stopwords of the search form (``tokenize`` output): English and Persian function words and question words."""

from __future__ import annotations

EN_STOP = set(
    "a an the of to in on at by for from with about as into over under between and or but not no nor is are was "
    "were be been being do does did doing have has had having what which who whom whose when where why how "
    "that this these those there here it its it's they them their he she his her we our you your i me my "
    "can could would should will shall may might must than then so such very also just only any some all "
    "each both more most much many other according say says said tell me please does did give list "
    "name describe explain mention mentioned document documents paper article text author authors".split()
)
FA_STOP = set(
    "و در به از که این را با است برای آن یک تا می ها های هم بر شده شود کرد کند نیز ای اند خود او ما "
    "شد باشد بود دارد داد همه هر یا اما چه چون پس اگر دیگر بین بی وی آنها آن‌ها سال کشور کشورهای "
    "میشود میکند کرده است؛ بوده داشت داشته گفت نمی".split()
)
